import requests

requests.post(rx.url("orders"), json={"order": 1001}, timeout=5)
rx.wait_for(1, endpoint="orders")
