"""Talking to Yahoo Finance through yfinance: the session, the client, request metering."""
