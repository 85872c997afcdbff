"""The risk kernel: one definition of each idea the risk endpoints share.

- :mod:`~risk.kernel.measures` -- quantiles with intervals, VaR and ES with standard errors,
  mean and proportion with standard errors (one documented convention);
- :mod:`~risk.kernel.hazard` -- yearly probability to event time;
- :mod:`~risk.kernel.process` -- the lognormal value process with legal stops and jumps;
- :mod:`~risk.kernel.seeds` -- recording a seed and spawning named streams;
- :mod:`~risk.kernel.loan_loss` -- default, sale and shortfall loss on a secured loan;
- :mod:`~risk.kernel.closed_form` -- lognormal quantiles and ES with a legal stop (reference).
"""
