"""Stack config: the pydantic model tree, environment profiles and the loader."""

from .loader import ConfigError, load_config, parse_config, raw_from_config_map
from .model import StackConfig
from .profiles import MACHINE_TYPES, PROFILES

__all__ = [
    "MACHINE_TYPES",
    "PROFILES",
    "ConfigError",
    "StackConfig",
    "load_config",
    "parse_config",
    "raw_from_config_map",
]
