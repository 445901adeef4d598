from rapport_shared.migrations import run_env

from rapport_portal.adapters.orm import metadata

run_env(metadata)
