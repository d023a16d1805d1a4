"""Reference: notebook 000's (CondConv) data cell and training cell, transcribed to run.

Source: ``/work/shared/seeds/000_f4d66cba8667be72.txt``, sections 2.2 (data), 2.3 (loss) and
2.5 / 3.2 (training; the two cells differ only in the model class and the record names).
The model classes are the transcriptions in ``notebook_condconv.py``. The code below is the
notebook's, line for line; what the tests needed is marked ``# (test)`` and is only:

* parameters: the data file, a subset of each split (``train_indices`` / ``val_indices``,
  ``paddle.io.Subset``; None = the whole split), ``n_epochs``, ``batch_size``,
  ``num_workers`` (0 in the tests, see below), ``work_path`` and which model to train;
* ``on_epoch_begin(epoch)``: called first thing in every epoch, so a test can apply the
  suite's per-epoch reseed (``paddle_repro.runtime``); the notebook has none;
* capture: every step's loss and lr (read before ``optimizer.step()``) and every epoch's
  printed numbers are appended to lists that ``run`` returns.

Why 0 loader workers: with worker processes, which worker's random draws (``random`` in the
transforms) land in which batch depends on process scheduling; with 0 workers the loader's
one thread draws them in sample order. The notebook's imports of ``paddle.fluid`` and
``paddlex`` were unused here and are left out (``paddle.fluid`` is gone in Paddle 3).
"""
import os

import numpy as np
import paddle
import paddle.nn.functional as F
import paddle.vision.transforms as transforms
from paddle import nn
from paddle.io import DataLoader, Subset
from paddle.vision.datasets import Cifar10

from tests.reference.notebook_condconv import AlexNet_BN, AlexNet_CondConv

MODELS = {"AlexNet_CondConv": AlexNet_CondConv, "AlexNet": AlexNet_BN}  # section 2.5, 3.2


# 2.3 标签平滑 (002 section 2.3 is the same class, character for character)
class LabelSmoothingCrossEntropy(nn.Layer):
    def __init__(self, smoothing=0.1):
        super().__init__()
        self.smoothing = smoothing

    def forward(self, pred, target):

        confidence = 1. - self.smoothing
        log_probs = F.log_softmax(pred, axis=-1)
        idx = paddle.stack([paddle.arange(log_probs.shape[0]), target], axis=1)
        nll_loss = paddle.gather_nd(-log_probs, index=idx)
        smooth_loss = paddle.mean(-log_probs, axis=-1)
        loss = confidence * nll_loss + self.smoothing * smooth_loss

        return loss.mean()


def run(data_file, work_path, n_epochs=100, train_indices=None, val_indices=None, batch_size=512,
        num_workers=4, model_name="AlexNet_CondConv", on_epoch_begin=None):
    """Runs the notebook's data cell and training cell; returns what it printed and saved.

    Returns:
        dict: ``steps`` (per batch: ``loss``, ``lr``), ``epochs`` (per epoch: ``lr``,
        ``train_loss``, ``train_acc``, ``val_loss``, ``val_acc`` as printed), ``best_acc``.
        ``work_path`` holds best_model/final_model .pdparams and their .pdopt.
    """
    steps, epochs = [], []  # (test)

    # 2.2 创建数据集
    train_tfm = transforms.Compose([
        transforms.Resize((130, 130)),
        transforms.RandomResizedCrop(128),
        transforms.RandomHorizontalFlip(0.5),
        transforms.ToTensor(),
        transforms.Normalize(mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5)),
    ])

    test_tfm = transforms.Compose([
        transforms.Resize((128, 128)),
        transforms.ToTensor(),
        transforms.Normalize(mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5)),
    ])
    paddle.vision.set_image_backend('cv2')
    # 使用Cifar10数据集
    train_dataset = Cifar10(data_file=data_file, mode='train', transform=train_tfm, )
    val_dataset = Cifar10(data_file=data_file, mode='test', transform=test_tfm)
    if train_indices is not None:  # (test)
        train_dataset = Subset(train_dataset, [int(i) for i in train_indices])
    if val_indices is not None:  # (test)
        val_dataset = Subset(val_dataset, [int(i) for i in val_indices])
    print("train_dataset: %d" % len(train_dataset))
    print("val_dataset: %d" % len(val_dataset))
    train_loader = DataLoader(train_dataset, batch_size=batch_size, shuffle=True, drop_last=True, num_workers=num_workers)
    val_loader = DataLoader(val_dataset, batch_size=batch_size, shuffle=False, drop_last=False, num_workers=num_workers)

    # 2.5 训练
    learning_rate = 0.1
    paddle.seed(42)
    np.random.seed(42)

    def init_weight(m):
        zeros = nn.initializer.Constant(0)
        ones = nn.initializer.Constant(1)
        if isinstance(m, (nn.Conv2D, nn.Linear)):
            nn.initializer.KaimingNormal(m.weight)
        if isinstance(m, nn.BatchNorm2D):
            zeros(m.bias)
            ones(m.weight)

    model = MODELS[model_name](num_classes=10)
    model.apply(init_weight)

    criterion = LabelSmoothingCrossEntropy()

    scheduler = paddle.optimizer.lr.MultiStepDecay(learning_rate=learning_rate, milestones=[30, 60, 90], verbose=False)
    optimizer = paddle.optimizer.SGD(parameters=model.parameters(), learning_rate=scheduler, weight_decay=1e-5)

    best_acc = 0.0
    val_acc = 0.0
    loss_record = {'train': {'loss': [], 'iter': []}, 'val': {'loss': [], 'iter': []}}   # for recording loss
    acc_record = {'train': {'acc': [], 'iter': []}, 'val': {'acc': [], 'iter': []}}      # for recording accuracy

    loss_iter = 0
    acc_iter = 0

    for epoch in range(n_epochs):
        if on_epoch_begin is not None:  # (test)
            on_epoch_begin(epoch)
        # ---------- Training ----------
        model.train()
        train_num = 0.0
        train_loss = 0.0

        val_num = 0.0
        val_loss = 0.0
        accuracy_manager = paddle.metric.Accuracy()
        val_accuracy_manager = paddle.metric.Accuracy()
        print("#===epoch: {}, lr={:.10f}===#".format(epoch, optimizer.get_lr()))
        epoch_lr = optimizer.get_lr()  # (test)
        for batch_id, data in enumerate(train_loader):
            x_data, y_data = data
            labels = paddle.unsqueeze(y_data, axis=1)

            logits = model(x_data)

            loss = criterion(logits, y_data)
            steps.append({"loss": float(loss), "lr": optimizer.get_lr()})  # (test)

            acc = paddle.metric.accuracy(logits, labels)
            accuracy_manager.update(acc.reshape([1]))  # (port) the notebook's Paddle gave shape [1]
            if batch_id % 10 == 0:
                loss_record['train']['loss'].append(loss.numpy())
                loss_record['train']['iter'].append(loss_iter)
                loss_iter += 1

            loss.backward()

            optimizer.step()
            optimizer.clear_grad()

            train_loss += loss
            train_num += len(y_data)
        scheduler.step()

        total_train_loss = (train_loss / train_num) * batch_size
        train_acc = accuracy_manager.accumulate()
        acc_record['train']['acc'].append(train_acc)
        acc_record['train']['iter'].append(acc_iter)
        acc_iter += 1
        # Print the information.
        print("#===epoch: {}, train loss is: {}, train acc is: {:2.2f}%===#".format(epoch, total_train_loss.numpy(), train_acc*100))

        # ---------- Validation ----------
        model.eval()

        for batch_id, data in enumerate(val_loader):

            x_data, y_data = data
            labels = paddle.unsqueeze(y_data, axis=1)
            with paddle.no_grad():
                logits = model(x_data)

            loss = criterion(logits, y_data)

            acc = paddle.metric.accuracy(logits, labels)
            val_accuracy_manager.update(acc.reshape([1]))  # (port) as above

            val_loss += loss
            val_num += len(y_data)

        total_val_loss = (val_loss / val_num) * batch_size
        loss_record['val']['loss'].append(total_val_loss.numpy())
        loss_record['val']['iter'].append(loss_iter)
        val_acc = val_accuracy_manager.accumulate()
        acc_record['val']['acc'].append(val_acc)
        acc_record['val']['iter'].append(acc_iter)

        print("#===epoch: {}, val loss is: {}, val acc is: {:2.2f}%===#".format(epoch, total_val_loss.numpy(), val_acc*100))
        epochs.append({"lr": epoch_lr, "train_loss": float(total_train_loss), "train_acc": float(train_acc),
                       "val_loss": float(total_val_loss), "val_acc": float(val_acc)})  # (test)

        # ===================save====================
        if val_acc > best_acc:
            best_acc = val_acc
            paddle.save(model.state_dict(), os.path.join(work_path, 'best_model.pdparams'))
            paddle.save(optimizer.state_dict(), os.path.join(work_path, 'best_optimizer.pdopt'))

    print(best_acc)
    paddle.save(model.state_dict(), os.path.join(work_path, 'final_model.pdparams'))
    paddle.save(optimizer.state_dict(), os.path.join(work_path, 'final_optimizer.pdopt'))
    return {"steps": steps, "epochs": epochs, "best_acc": float(best_acc)}  # (test)
