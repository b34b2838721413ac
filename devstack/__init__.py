"""The embedded development stack `make run` starts; the end-to-end tests start it too."""
