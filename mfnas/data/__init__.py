"""Datasets behind the tasks, loaded from real sources and verified by content checksum."""
