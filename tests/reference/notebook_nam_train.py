"""Reference: notebook 003's (ResNet50-NAM) training cells, transcribed to run.

Source: ``/work/shared/seeds/003_93f289d07654cdb7.txt``, cells "4.自定义数据集处理方式"
(``ToArray``, ``RandomApply``, the ``LRSchedulerM`` callback, the VisualDL patches) and
"5.在Cifar100数据集上训练模型" (``paddle.Model``, ``prepare``, transforms, datasets, callbacks,
``fit``). The model is ``notebook_resnet_nam.resnet50`` and ``ToArray`` / ``RandomApply`` are
``notebook_nam_transforms``'s transcriptions. The code is the notebook's; what the tests
needed is marked ``# (test)``, what running it today needed ``# (port)``:

* parameters: the data file, a subset of each split (``paddle.io.Subset``; None = all),
  ``MAX_EPOCH`` (also the cosine's T_max, as written), ``BATCH_SIZE``, ``num_workers`` (0 in
  the tests: with worker processes the order of the transforms' random draws depends on
  scheduling), the output folders, and ``warmup_steps`` (the notebook's literal 2000; a test
  shortens it to reach the point where the warm-up ends inside an epoch);
* ``extra_callbacks``: appended after the notebook's callbacks, so they see every event
  after the notebook's own (the tests capture per-step and per-epoch numbers and apply the
  suite's per-epoch reseed there; ``fit`` creates an epoch's loader iterator after
  ``on_epoch_begin``);
* the notebook set no seed at all; a test seeds before calling ``run``.

Left out: the ``model.load('output/ResNet50-NAM/299.pdparams')`` line under "加载checkpoint"
(a commented-out resume in the notebook, whose ``#`` the text export lost: a fresh run has no
epoch-299 file, and the model is built with ``pretrained=False``).
"""
import paddle
from paddle import callbacks
from paddle.io import Subset
from paddle.optimizer.lr import CosineAnnealingDecay, LinearWarmup
from paddle.vision.datasets import Cifar100
from paddle.vision.transforms import (
    BrightnessTransform, Compose, ContrastTransform, Normalize, RandomCrop, RandomHorizontalFlip,
    RandomRotation,
)

from tests.reference.notebook_nam_transforms import NotebookRandomApply as RandomApply
from tests.reference.notebook_nam_transforms import NotebookToArray as ToArray
from tests.reference.notebook_resnet_nam import resnet50


class LRSchedulerM(callbacks.LRScheduler):
    def __init__(self, by_step=False, by_epoch=True, warm_up=True):
        super().__init__(by_step, by_epoch)
        assert by_step ^ warm_up
        self.warm_up = warm_up

    def on_epoch_end(self, epoch, logs=None):
        if self.by_epoch and not self.warm_up:
            if self.model._optimizer and hasattr(
                self.model._optimizer, '_learning_rate') and isinstance(
                    self.model._optimizer._learning_rate, paddle.optimizer.lr.LRScheduler):
                self.model._optimizer._learning_rate.step()

    def on_train_batch_end(self, step, logs=None):
        if self.by_step or self.warm_up:
            if self.model._optimizer and hasattr(
                self.model._optimizer, '_learning_rate') and isinstance(
                    self.model._optimizer._learning_rate, paddle.optimizer.lr.LRScheduler):
                self.model._optimizer._learning_rate.step()
            if self.model._optimizer._learning_rate.last_epoch >= self.model._optimizer._learning_rate.warmup_steps:
                self.warm_up = False


def _on_train_batch_end(self, step, logs=None):
    logs = logs or {}
    logs['lr'] = self.model._optimizer.get_lr()
    self.train_step += 1
    if self._is_write():
        self._updates(logs, 'train')


def _on_train_begin(self, logs=None):
    self.epochs = self.params['epochs']
    assert self.epochs
    self.train_metrics = self.params['metrics'] + ['lr']
    assert self.train_metrics
    self._is_fit = True
    self.train_step = 0


def run(DATA_FILE, save_dir, vdl_log, MAX_EPOCH=300, train_indices=None, test_indices=None,
        BATCH_SIZE=256, num_workers=4, warmup_steps=2000, extra_callbacks=()):
    """Runs the notebook's cell 5 for ResNet50-NAM; ``save_dir`` gets ModelCheckpoint's files
    (``{epoch}.pdparams`` / ``.pdopt`` every epoch, ``final.*`` at the end)."""
    # cell 4 patches paddle's VisualDL callback class; (test) undone afterwards, as other
    # tests share this process
    saved = callbacks.VisualDL.on_train_batch_end, callbacks.VisualDL.on_train_begin
    callbacks.VisualDL.on_train_batch_end = _on_train_batch_end
    callbacks.VisualDL.on_train_begin = _on_train_begin
    try:
        model = paddle.Model(resnet50())  # (port) resnet50(pretrained=False): no download path here
        LR = 0.01
        WEIGHT_DECAY = 5e-4
        MOMENTUM = 0.9
        CIFAR_MEAN = [0.5071, 0.4865, 0.4409]
        CIFAR_STD = [0.1942, 0.1918, 0.1958]
        model.prepare(
            paddle.optimizer.Momentum(
                learning_rate=LinearWarmup(CosineAnnealingDecay(LR, MAX_EPOCH), warmup_steps, 0., LR),
                momentum=MOMENTUM,
                parameters=model.parameters(),
                weight_decay=WEIGHT_DECAY),
            paddle.nn.CrossEntropyLoss(),
            paddle.metric.Accuracy(topk=(1, 5)))
        # 定义数据集增强方式
        transforms = Compose([
            RandomCrop(32, padding=4),
            RandomApply(BrightnessTransform(0.1)),
            RandomApply(ContrastTransform(0.1)),
            RandomHorizontalFlip(),
            RandomRotation(15),
            ToArray(),
            Normalize(CIFAR_MEAN, CIFAR_STD),
        ])
        val_transforms = Compose([ToArray(), Normalize(CIFAR_MEAN, CIFAR_STD)])
        # 加载训练和测试数据集
        train_set = Cifar100(DATA_FILE, mode='train', transform=transforms)
        test_set = Cifar100(DATA_FILE, mode='test', transform=val_transforms)
        if train_indices is not None:  # (test)
            train_set = Subset(train_set, [int(i) for i in train_indices])
        if test_indices is not None:  # (test)
            test_set = Subset(test_set, [int(i) for i in test_indices])
        # 定义保存方式和训练可视化
        checkpoint_callback = paddle.callbacks.ModelCheckpoint(save_freq=1, save_dir=save_dir)
        # (port) named `callbacks` in the notebook, whose top level rebinds the module's name
        # after using it; inside a function that name would shadow the module
        callback_list = [LRSchedulerM(), checkpoint_callback, callbacks.VisualDL(vdl_log)]
        callback_list += list(extra_callbacks)  # (test)
        # 训练模型
        model.fit(
            train_set,
            test_set,
            epochs=MAX_EPOCH,
            batch_size=BATCH_SIZE,
            shuffle=True,
            num_workers=num_workers,
            verbose=1,
            callbacks=callback_list,
        )
    finally:
        callbacks.VisualDL.on_train_batch_end, callbacks.VisualDL.on_train_begin = saved  # (test)
    return model
