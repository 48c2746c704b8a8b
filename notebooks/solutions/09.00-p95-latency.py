p95_latency = attempts.groupby("provider")["elapsed_s"].quantile(0.95)
