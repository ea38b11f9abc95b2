"""``fnrun.serving.remote`` (MLRun's ``mlrun.serving.remote``): steps that call HTTP
endpoints."""

from fnrun.graph.remote import BatchHttpRequests, RemoteStep

__all__ = ["BatchHttpRequests", "RemoteStep"]
