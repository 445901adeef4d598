"""A second, private Kafka broker for tests that stop and restart Kafka.

Started with the project's own ``scripts/kafka.sh`` under another state directory and
other ports; the jars already fetched for the shared broker are reused through a symlink,
so no Maven download happens. The shared broker on 19092 is never touched: the script
only stops the pid recorded in *this* state directory.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from harness.ports import free_port


class PrivateBroker:
    def __init__(self, repo_root: Path, state_dir: Path, log_path: Path) -> None:
        self.repo_root = repo_root
        self.state_dir = state_dir
        self.log_path = log_path
        self.port = free_port()
        self.controller_port = free_port()
        libs = repo_root / ".local" / "kafka" / "libs"
        (state_dir / "kafka").mkdir(parents=True, exist_ok=True)
        if libs.exists():
            (state_dir / "kafka" / "libs").symlink_to(libs, target_is_directory=True)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _env(self) -> dict[str, str]:
        # Drop every RAPPORT_* of the caller, so the script can never mistake the shared
        # broker for "ours" or reuse it as an external one.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RAPPORT_", "_RAPPORT_"))}
        env.update(RAPPORT_LOCAL=str(self.state_dir), RAPPORT_KAFKA_PORT=str(self.port),
                   RAPPORT_KAFKA_CONTROLLER_PORT=str(self.controller_port), RAPPORT_KAFKA_WAIT_TIMEOUT="150")
        return env

    def _script(self, command: str, timeout: float) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("a") as log:
            log.write(f"\n--- kafka.sh {command} (port {self.port})\n")
            log.flush()
            subprocess.run(["bash", str(self.repo_root / "scripts" / "kafka.sh"), command], env=self._env(),
                           cwd=self.repo_root, stdout=log, stderr=subprocess.STDOUT, check=True, timeout=timeout)

    def start(self) -> None:
        self._script("start", timeout=200)

    def stop(self) -> None:
        self._script("stop", timeout=60)
