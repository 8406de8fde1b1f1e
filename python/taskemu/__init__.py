"""taskemu: a local emulator of Alibaba Cloud and Huawei Cloud task APIs, for tests.

This package carries the `taskemu` binary (on PATH once installed) and, in pure Python with the
standard library only, `Emulator`, which starts that binary on a free port and drives its control
API, and a pytest plugin (fixtures `taskemu` and `taskemu_session`, marker `taskemu`; see
`taskemu.plugin`).

    from taskemu import Emulator

    with Emulator() as emu:               # the embedded demo world, clock frozen
        emu.clock.advance("5m")
        print(emu.endpoint, emu.requests())
"""

from ._emulator import ControlError, Emulator, StartError, TaskemuError, find_binary

__all__ = ["ControlError", "Emulator", "StartError", "TaskemuError", "find_binary", "__version__"]


def _version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover - Python < 3.8 is not supported anyway
        return "unknown"
    try:
        return version("taskemu")
    except PackageNotFoundError:  # run from a source checkout, not installed
        return "unknown"


__version__ = _version()
