rx.respond("checkout", status=503)  # any answer outside 2xx means "failed: try again"
