requests.post(rx.url("orders"), json={"order": 1001}, timeout=5)
