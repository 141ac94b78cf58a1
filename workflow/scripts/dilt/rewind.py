"""Late rewinding (Frankle et al. 2020): keep the weights after k steps of the dense run.

Later IMP rounds restart from those weights, theta_k, and train with train.train(...,
start_step=k): the learning-rate schedule and the batch order continue from step k to the
end, as open_lth's start_step does. The optimizer starts fresh at k (no momentum, no Adam
moments), also as in open_lth.
"""


class RewindKeeper:
    """Training hook that copies the weights (to the CPU) after `step` optimizer steps.

    `weights` stays empty when training never reaches `step`. The copy survives a resumed
    run through state_dict / load_state_dict (see train.train).
    """

    def __init__(self, step):
        self.step, self.weights = step, {}

    def __call__(self, step, model, masks, opt):
        if step == self.step:
            self.weights = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}

    def state_dict(self):
        return dict(self.weights)

    def load_state_dict(self, state):
        self.weights = dict(state)
