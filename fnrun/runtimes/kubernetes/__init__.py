"""Everything that talks to a Kubernetes API server: which cluster (cluster), the workloads a run
can be (workloads), their manifests (manifests/), submitting and following a run (run, watch,
pod_status), deploying serving functions (deploy), the dask kind's DaskCluster and Kaniko
builds.

May import: local/, progress/, platforms and the layers below runtimes.
"""
