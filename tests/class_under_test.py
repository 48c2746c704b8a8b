"""A real class server on loopback for the tests of a learner's bin: two learners, and a count of what reached it."""

import webhooklab as wl
from webhooklab._classroom import ClassFolder, ClassServer, numbered


class Classroom:
    """A running class server with two learners on 127.0.0.2; `requests` counts what reached it."""

    def __init__(self, folder):
        self.server = ClassServer(ClassFolder(folder, numbered(2)), host="127.0.0.2")
        self.learner, self.other = self.server.folder.learners
        self.requests = 0
        dispatch = self.server.app

        def counted(environ, start_response):
            self.requests += 1
            return dispatch(environ, start_response)

        self.server.app = counted
        self.server.start()
        self.store = self.server.bins[self.learner.token].store
        self.base_url = self.server.class_url

    def bin_url(self, token: str | None = None) -> str:
        return f"{self.base_url}/b/{token or self.learner.token}/"

    def attach(self):
        """The learner's bin as `wl.Receiver.attach(<the URL on the handout>)` gives it, every endpoint a plain 200."""
        for each in self.server.bins.values():
            each.app.extensions["webhooklab"].responses.reset()  # what an earlier test's respond() chose
        return wl.Receiver.attach(self.bin_url())
