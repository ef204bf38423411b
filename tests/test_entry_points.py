"""The command's entry points: ``frfeeds`` (the console script) and ``python -m frfeeds``."""

import shutil
import subprocess
import sys
from pathlib import Path

from helpers import SEEDS


def test_python_m_frfeeds_is_the_frfeeds_command(tmp_path):
    module = subprocess.run([sys.executable, "-m", "frfeeds", "build", str(tmp_path / "a"), "--records", str(SEEDS),
                             "--quiet", "--no-cache"], capture_output=True, text=True, timeout=120)
    script = Path(sys.executable).with_name("frfeeds")
    command = [str(script) if script.exists() else shutil.which("frfeeds"), "build", str(tmp_path / "b"),
               "--records", str(SEEDS), "--quiet", "--no-cache"]
    console = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert module.returncode == console.returncode == 0, module.stderr + console.stderr
    assert module.stdout.replace("/a ", "/b ") == console.stdout
    assert (tmp_path / "a/feeds/all.atom").read_bytes() == (tmp_path / "b/feeds/all.atom").read_bytes()
    usage = subprocess.run([sys.executable, "-m", "frfeeds", "build"], capture_output=True, text=True, timeout=60)
    assert usage.returncode == 2 and usage.stderr.startswith("frfeeds: error:") and "Traceback" not in usage.stderr
