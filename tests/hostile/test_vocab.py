"""Hostile vocabulary files (nsreason.program.vocab.load_vocabulary, `--vocabulary`): a FIFO,
a device, a file over the limit. Typed errors, without blocking or reading it all."""

from __future__ import annotations

import os

import pytest

from nsreason.errors import VocabularyError
from nsreason.limits import raised
from nsreason.program.vocab import load_vocabulary, programs_dir
from tests.hostile.bounds import within


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "v.yaml"
    os.mkfifo(fifo)
    with pytest.raises(VocabularyError, match="cannot read vocabulary file: expected a regular vocabulary "
                                              "file, got a FIFO"):
        within(10, load_vocabulary, fifo)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_a_device_is_refused_unread():
    with pytest.raises(VocabularyError, match="got a character device"):
        within(10, load_vocabulary, "/dev/zero")


def test_over_the_limit(tmp_path):
    f = tmp_path / "v.yaml"
    f.write_text((programs_dir() / "clevr.yaml").read_text())
    with raised(program_bytes=1000), pytest.raises(VocabularyError, match="file too large"):
        load_vocabulary(f)
    assert load_vocabulary(f).name
