"""In-process fakes of the providers' HTTP APIs, for tests through the real SDKs."""
