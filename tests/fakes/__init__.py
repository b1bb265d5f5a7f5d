"""In-process fakes of the providers' HTTP APIs, for tests through the real SDKs."""

from http.server import ThreadingHTTPServer


class Server(ThreadingHTTPServer):
    """The fakes' HTTP server: a thread per connection, and, like a provider's front end,
    room for a burst of new connections (with socketserver's listen backlog of 5 the
    kernel drops the others' SYNs, and each such client waits a second to retry)."""

    request_queue_size = 1024
    daemon_threads = True
