"""Helpers the tests share: frames of bars, the pipeline harness, Dagster processes, a browser.

Imported by tests directly (``from stock_pipeline_tests.support.frames import bars``);
``conftest.py`` holds only fixtures.
"""
