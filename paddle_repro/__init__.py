"""paddle_repro: faithful PaddlePaddle reproductions of CondConv, ACmix, NAM and ShuffleNetV2."""
__version__ = "0.1.0"
