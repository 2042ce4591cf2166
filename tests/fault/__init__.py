"""Fault injection: private servers frozen, killed and restarted under real workers."""
