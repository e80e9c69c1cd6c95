"""A sweep's runs write TensorBoard's event files with the run folder's `EventLog`."""

from zoo.runfolder.tensorboard import SCALARS, EventLog, RunEvents, hparams, hparams_event

__all__ = ["SCALARS", "EventLog", "RunEvents", "hparams", "hparams_event"]
