# A mitmproxy addon for the tests (configuration, not a change to mitmproxy): the proxy connects
# each name the test maps (host:port -> a port on 127.0.0.1) to loopback, and refuses every other
# destination, so no test traffic ever leaves the machine. The TLS the client sees is mitmproxy's
# own, minted for the name the client asked for.
import json

from mitmproxy import ctx


class LoopbackMap:
    def load(self, loader):
        loader.add_option("loopback_map", str, "{}", 'JSON object: "host:port" -> port on 127.0.0.1')

    def server_connect(self, data):
        host, port = data.server.address
        target = json.loads(ctx.options.loopback_map).get(f"{host}:{port}")
        if target is None:
            data.server.error = f"{host}:{port} is not mapped onto loopback by the test"
        else:
            data.server.address = ("127.0.0.1", int(target))


addons = [LoopbackMap()]
