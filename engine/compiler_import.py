"""torch.optim without importing torch's compiler stack (torch._dynamo) on the first edit.

The test-time alignment creates L-BFGS optimisers. The first optimiser created in a process
imports torch._dynamo, which took 2.4-3.9 s on 2 cores (``python -X importtime``: torch._dynamo
3.9 s cumulative, sympy and torch.distributed.fsdp included). The reason is that
``Optimizer.add_param_group`` (called by every optimiser's ``__init__``), ``zero_grad``,
``state_dict`` and ``load_state_dict`` are wrapped by ``torch._disable_dynamo``. On their first call
that wrapper imports torch._dynamo to build a "never compile this" version of the method, and
caches it on the plain function as ``__dynamo_disable``.

SIM-Net compiles nothing, so "never compile this" is the plain method itself. Caching the plain
method before the first call keeps the import away; each call then costs what it did before.
If torch._dynamo is already imported (someone compiles in this process), nothing is changed.
"""
from __future__ import annotations

import sys

#: The methods of torch.optim.Optimizer that torch wraps with torch._disable_dynamo.
WRAPPED_OPTIMIZER_METHODS = ("add_param_group", "zero_grad", "state_dict", "load_state_dict")
#: Where torch._disable_dynamo caches the version of a function that dynamo must not compile.
DISABLED_CACHE = "__dynamo_disable"


def skip_compiler_import() -> bool:
    """Let optimisers run without importing torch._dynamo; True when every wrapped method now does.

    Safe to call more than once. A torch whose optimiser methods are no longer wrapped this way
    is left alone (False is returned and the import, if any, happens as before)."""
    if "torch._dynamo" in sys.modules:
        return False
    from torch.optim import Optimizer

    complete = True
    for name in WRAPPED_OPTIMIZER_METHODS:
        plain = getattr(getattr(Optimizer, name, None), "__wrapped__", None)
        if plain is None:
            complete = False
            continue
        if getattr(plain, DISABLED_CACHE, None) is None:
            setattr(plain, DISABLED_CACHE, plain)
    return complete
