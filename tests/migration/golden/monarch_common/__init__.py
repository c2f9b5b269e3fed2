"""Shared settings and helpers of the Monarch data-platform pipelines."""
