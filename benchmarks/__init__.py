"""The adlc benchmark harness: `make bench` (see docs/performance.md, "Speed")."""
