"""Reading credentials never touches the network: c2pa-rs would otherwise fetch remote
manifests, OCSP responses and the did:web documents CAWG identity assertions name (measured
before the fix: a DNS query for the Adobe sample below). Checked with strace on a child
process: no IPv4 / IPv6 connect at all."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import C2PA_SAMPLES, require_shared, require_tool

REPO = Path(__file__).resolve().parents[2]
FILES = ("c2pa-rs__adobe_connected_identities.jpg", "c2pa-rs__cloud.jpg", "c2pa-rs__ocsp.jpg",
         "c2pa-node__cloud-only-firefly.jpg", "c2pa-rs__libpng-test_with_url.png")


def test_reading_the_samples_opens_no_network_connection(tmp_path):
    samples = require_shared(C2PA_SAMPLES)
    strace = require_tool("strace")
    code = ("import sys; from detectors.provenance import read_provenance\n"
            "for p in sys.argv[1:]: print(read_provenance(p).state)")
    log = tmp_path / "strace.log"
    result = subprocess.run([strace, "-f", "-e", "trace=connect", "-o", str(log), sys.executable, "-c", code,
                             *(str(samples / name) for name in FILES)],
                            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.split()) == len(FILES)
    inet = [line for line in log.read_text().splitlines() if "AF_INET" in line]
    assert inet == []
