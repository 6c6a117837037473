"""What a pipeline stage raises: one line saying why it failed (the pipeline stops there)."""


class StageFailed(RuntimeError):
    pass
