"""The source down, and S3 down (a dead endpoint, and the endpoint going away mid-run)."""

import socket
import threading

import pytest

from reveries_pipeline_tests.faults.verification import assert_warehouse_matches_source
from reveries_pipeline_tests.support import free_port

pytestmark = pytest.mark.faults


def test_source_down_fails_without_the_password_and_recovers(world):
    world.change_source()
    down = world.run("etl_job", TOTESYS_DSN=f"postgresql://reader:hunter2secret@127.0.0.1:{free_port()}/totesys")
    assert down.returncode != 0
    assert "127.0.0.1" in down.output and "raw/" in down.output
    assert "hunter2secret" not in down.output
    run = world.run("etl_job")
    assert run.ok, run.tail()
    assert_warehouse_matches_source(world)


def test_s3_dead_endpoint_fails_then_recovers(s3_world):
    world = s3_world
    world.change_source()
    # two attempts per S3 call instead of the default eight: the same failure, sooner
    down = world.run("etl_job", AWS_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}", AWS_MAX_ATTEMPTS="2")
    assert down.returncode != 0
    run = world.run("etl_job")
    assert run.ok, run.tail()
    assert_warehouse_matches_source(world)


class TcpProxy:
    """A loopback TCP proxy in front of the S3 endpoint that can be cut like a network outage."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.cut = threading.Event()
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.cut.is_set():
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            self.connections += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def disconnect(self) -> None:
        self.cut.set()
        for s in self.connections:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def reconnect(self) -> None:
        self.cut.clear()


def test_s3_going_away_mid_run_loses_nothing(s3_world, s3_endpoint):
    world = s3_world
    proxy = TcpProxy(int(s3_endpoint.rsplit(":", 1)[1]))
    world.extra_env["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{proxy.port}"
    world.change_source()

    def cut_after_first_batch(line: str, _pgid: int) -> bool:
        if "raw/" in line and ": wrote " in line and not proxy.cut.is_set():
            proxy.disconnect()
            return True
        return False

    broken = world.run("etl_job", on_line=cut_after_first_batch, AWS_MAX_ATTEMPTS="2")
    assert proxy.cut.is_set(), broken.tail()
    assert broken.returncode != 0, broken.tail()
    proxy.reconnect()
    run = world.run("etl_job")
    assert run.ok, run.tail()
    assert_warehouse_matches_source(world)
