"""Developer tools for appstack: the offline policy gate and benchmarks."""
