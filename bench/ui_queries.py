"""The asset page's two live queries, as dagster-webserver 1.13.27's UI sends them.

Text copied from the UI bundle (``dagster_webserver/webapp/build/_next/static/chunks``,
``AssetGraphLiveQuery`` with its fragments, and ``PartitionHealthQuery``), executed against
Dagster's GraphQL schema in the benchmark's process: the same resolvers the webserver runs,
without its HTTP layer.
"""

ASSET_GRAPH_LIVE_QUERY = """
query AssetGraphLiveQuery($assetKeys: [AssetKeyInput!]!) {
  assetNodes(assetKeys: $assetKeys, loadMaterializations: true) { id ...AssetNodeLiveFragment }
  assetsLatestInfo(assetKeys: $assetKeys) { id ...AssetLatestInfoFragment }
}
fragment AssetNodeLiveFragment on AssetNode {
  id opNames repository { id } assetKey { path }
  assetMaterializations(limit: 1) { ...AssetNodeLiveMaterialization }
  assetObservations(limit: 1) { ...AssetNodeLiveObservation }
  assetChecksOrError { ... on AssetChecks { checks { ...AssetCheckLiveFragment } } }
  partitionStats { numMaterialized numMaterializing numPartitions numFailed }
}
fragment AssetNodeLiveMaterialization on MaterializationEvent { timestamp runId stepKey }
fragment AssetNodeLiveObservation on ObservationEvent { timestamp runId stepKey }
fragment AssetCheckLiveFragment on AssetCheck {
  name canExecuteIndividually
  executionForLatestMaterialization {
    id runId status timestamp stepKey evaluation { severity }
  }
  partitionDefinition { name description }
  partitionStatuses {
    ... on AssetCheckDefaultPartitionStatuses {
      succeededPartitions failedPartitions inProgressPartitions skippedPartitions
      executionFailedPartitions
    }
    ... on AssetCheckTimePartitionStatuses { ranges { startKey endKey status } }
    ... on AssetCheckMultiPartitionStatuses {
      primaryDimensionName
      ranges {
        primaryDimStartKey primaryDimEndKey
        secondaryDim {
          ... on AssetCheckDefaultPartitionStatuses {
            succeededPartitions failedPartitions inProgressPartitions skippedPartitions
            executionFailedPartitions
          }
          ... on AssetCheckTimePartitionStatuses { ranges { startKey endKey status } }
        }
      }
    }
  }
}
fragment AssetLatestInfoFragment on AssetLatestInfo {
  id assetKey { path } unstartedRunIds inProgressRunIds latestRun { id ...AssetLatestInfoRun }
}
fragment AssetLatestInfoRun on Run { status startTime endTime id }
"""

PARTITION_HEALTH_QUERY = """
query PartitionHealthQuery($assetKey: AssetKeyInput!) {
  assetNodeOrError(assetKey: $assetKey) {
    ... on AssetNode {
      id
      partitionKeysByDimension { name type partitionKeys }
      assetPartitionStatuses {
        ... on TimePartitionStatuses { ranges { status startTime endTime startKey endKey } }
        ... on DefaultPartitionStatuses {
          materializedPartitions materializingPartitions failedPartitions
        }
        ... on MultiPartitionStatuses {
          primaryDimensionName
          ranges {
            primaryDimStartKey primaryDimEndKey primaryDimStartTime primaryDimEndTime
            secondaryDim {
              ... on TimePartitionStatuses {
                ranges { status startTime endTime startKey endKey }
              }
              ... on DefaultPartitionStatuses {
                materializedPartitions materializingPartitions failedPartitions
              }
            }
          }
        }
      }
    }
  }
}
"""
