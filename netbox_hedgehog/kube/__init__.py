"""Talking to a fabric's Kubernetes API: the registry of mirrored kinds, the client, the connection test."""
