"""Reference: notebook 004 (ShuffleNetV2, PyTorch) as it ran, in PyTorch: its model cells and
the ``train()`` of the ``utils.py`` it imports (``seeds/004_executed_notebook_cells.txt``).

Needs ``torch`` (the optional extra ``pip install -e .[crosscheck]``); only the tests import
this file, never the package. The code is the seed's text; the only changes:

* ``get_acc``/``train`` need ``torch`` and ``tqdm`` in scope (``utils.py`` imports them).
* Nothing else: ``train`` still saves the best network with ``torch.save(net, path)`` (chosen
  on the test accuracy), steps ``scheduler.step(train_loss)`` once per epoch before the test
  pass, and reports accuracies as the mean of per-batch accuracies (``get_acc``) and losses
  as the mean of per-batch mean losses.

The notebook's data cell (``ToTensor()`` + ``Normalize((0.5,)*3, (0.5,)*3)``, RandomCrop and
RandomHorizontalFlip commented out; blog variant: both enabled) is ``notebook_transform``
below, written with torch ops because torchvision is not a dependency.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from tqdm import tqdm


# ---- code cell 30 ----
class ShuffleBlock(nn.Module):
    def __init__(self, groups=2):
        super(ShuffleBlock, self).__init__()
        self.groups = groups

    def forward(self, x):
        '''Channel shuffle: [N,C,H,W] -> [N,g,C/g,H,W] -> [N,C/g,g,H,w] -> [N,C,H,W]'''
        N, C, H, W = x.size()
        g = self.groups
        return x.view(N, g, C // g, H, W).permute(0, 2, 1, 3, 4).reshape(N, C, H, W)


# ---- code cell 32 ----
class SplitBlock(nn.Module):
    def __init__(self, ratio):
        super(SplitBlock, self).__init__()
        self.ratio = ratio

    def forward(self, x):
        c = int(x.size(1) * self.ratio)
        return x[:, :c, :, :], x[:, c:, :, :]


# ---- code cell 34 ----
class BasicBlock(nn.Module):
    def __init__(self, in_channels, split_ratio=0.5):
        super(BasicBlock, self).__init__()
        self.split = SplitBlock(split_ratio)
        in_channels = int(in_channels * split_ratio)
        self.conv1 = nn.Conv2d(in_channels, in_channels,
                               kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv2 = nn.Conv2d(in_channels, in_channels,
                               kernel_size=3, stride=1, padding=1, groups=in_channels, bias=False)
        self.bn2 = nn.BatchNorm2d(in_channels)
        self.conv3 = nn.Conv2d(in_channels, in_channels,
                               kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(in_channels)
        self.shuffle = ShuffleBlock()

    def forward(self, x):
        x1, x2 = self.split(x)
        out = F.relu(self.bn1(self.conv1(x2)))
        out = self.bn2(self.conv2(out))
        out = F.relu(self.bn3(self.conv3(out)))
        out = torch.cat([x1, out], 1)
        out = self.shuffle(out)
        return out


# ---- code cell 36 ----
class DownBlock(nn.Module):
    def __init__(self, in_channels, out_channels):
        super(DownBlock, self).__init__()
        mid_channels = out_channels // 2
        # left
        self.conv1 = nn.Conv2d(in_channels, in_channels,
                               kernel_size=3, stride=2, padding=1, groups=in_channels, bias=False)
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv2 = nn.Conv2d(in_channels, mid_channels,
                               kernel_size=1, bias=False)
        self.bn2 = nn.BatchNorm2d(mid_channels)
        # right
        self.conv3 = nn.Conv2d(in_channels, mid_channels,
                               kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(mid_channels)
        self.conv4 = nn.Conv2d(mid_channels, mid_channels,
                               kernel_size=3, stride=2, padding=1, groups=mid_channels, bias=False)
        self.bn4 = nn.BatchNorm2d(mid_channels)
        self.conv5 = nn.Conv2d(mid_channels, mid_channels,
                               kernel_size=1, bias=False)
        self.bn5 = nn.BatchNorm2d(mid_channels)

        self.shuffle = ShuffleBlock()

    def forward(self, x):
        # left
        out1 = self.bn1(self.conv1(x))
        out1 = F.relu(self.bn2(self.conv2(out1)))
        # right
        out2 = F.relu(self.bn3(self.conv3(x)))
        out2 = self.bn4(self.conv4(out2))
        out2 = F.relu(self.bn5(self.conv5(out2)))
        # concat
        out = torch.cat([out1, out2], 1)
        out = self.shuffle(out)
        return out


# ---- code cell 38 ----
class ShuffleNetV2(nn.Module):
    def __init__(self, net_size, num_classes = 10):
        super(ShuffleNetV2, self).__init__()
        out_channels = configs[net_size]['out_channels']
        num_blocks = configs[net_size]['num_blocks']

        self.conv1 = nn.Conv2d(3, 24, kernel_size=3,
                               stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(24)
        self.in_channels = 24
        self.layer1 = self._make_layer(out_channels[0], num_blocks[0])
        self.layer2 = self._make_layer(out_channels[1], num_blocks[1])
        self.layer3 = self._make_layer(out_channels[2], num_blocks[2])
        self.conv2 = nn.Conv2d(out_channels[2], out_channels[3],
                               kernel_size=1, stride=1, padding=0, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels[3])
        self.linear = nn.Linear(out_channels[3], num_classes)

    def _make_layer(self, out_channels, num_blocks):
        layers = [DownBlock(self.in_channels, out_channels)]
        for i in range(num_blocks):
            layers.append(BasicBlock(out_channels))
            self.in_channels = out_channels
        return nn.Sequential(*layers)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        # out = F.max_pool2d(out, 3, stride=2, padding=1)
        out = self.layer1(out)
        out = self.layer2(out)
        out = self.layer3(out)
        out = F.relu(self.bn2(self.conv2(out)))
        out = F.avg_pool2d(out, 4)
        out = out.view(out.size(0), -1)
        out = self.linear(out)
        return out


# 根据表中的定义
configs = {
    0.5: {
        'out_channels': (48, 96, 192, 1024),
        'num_blocks': (3, 7, 3)
    },

    1: {
        'out_channels': (116, 232, 464, 1024),
        'num_blocks': (3, 7, 3)
    },
    1.5: {
        'out_channels': (176, 352, 704, 1024),
        'num_blocks': (3, 7, 3)
    },
    2: {
        'out_channels': (224, 488, 976, 2048),
        'num_blocks': (3, 7, 3)
    }
}


# ---- code cell 5: the data cell, with torch ops ----
def notebook_transform(images, crop_offsets=None, flips=None):
    """``transforms.Compose([RandomCrop(32, padding=4), RandomHorizontalFlip(), ToTensor(),
    Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])`` on a batch, with the random decisions
    given (the executed notebook: no crop, no flip).

    Args:
        images: uint8 tensor [N, 32, 32, 3] (CIFAR's HWC RGB).
        crop_offsets: int tensor [N, 2] of (top, left) in the zero-padded 40x40 image, or None.
        flips: bool tensor [N] (flip after the crop), or None.

    Returns:
        float32 tensor [N, 3, 32, 32].
    """
    x = images.permute(0, 3, 1, 2)                       # HWC -> CHW, still uint8
    if crop_offsets is not None:                         # RandomCrop(32, padding=4), fill 0
        padded = F.pad(x, (4, 4, 4, 4))
        x = torch.stack([padded[i, :, t:t + 32, l:l + 32]
                         for i, (t, l) in enumerate(crop_offsets.tolist())])
    if flips is not None:                                # RandomHorizontalFlip()
        x = torch.where(flips[:, None, None, None], x.flip(3), x)
    x = x.float().div(255)                               # ToTensor()
    mean = torch.tensor((0.5, 0.5, 0.5)).view(1, 3, 1, 1)
    std = torch.tensor((0.5, 0.5, 0.5)).view(1, 3, 1, 1)
    return x.sub(mean).div(std)                          # Normalize


# ==== CIFAR10/utils.py (the notebook runs `from utils import train`) ====
def get_acc(outputs, label):
    total = outputs.shape[0]
    probs, pred_y = outputs.data.max(dim=1) # 得到概率
    correct = (pred_y == label).sum().data
    return torch.div(correct, total)

def train(net, trainloader, testloader, epochs, optimizer , criterion, scheduler , path = './model.pth', writer = None ,verbose = False):
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    best_acc = 0
    train_acc_list, test_acc_list = [],[]
    train_loss_list, test_loss_list = [],[]
    lr_list  = []
    for i in range(epochs):
        train_loss = 0
        train_acc = 0
        test_loss = 0
        test_acc = 0
        if torch.cuda.is_available():
            net = net.to(device)
        net.train()
        train_step = len(trainloader)
        with tqdm(total=train_step,desc=f'Train Epoch {i + 1}/{epochs}',postfix=dict,mininterval=0.3) as pbar:
            for step,data in enumerate(trainloader,start=0):
                im,label = data
                im = im.to(device)
                label = label.to(device)

                optimizer.zero_grad()
                # 释放内存
                if hasattr(torch.cuda, 'empty_cache'):
                    torch.cuda.empty_cache()
                # formard
                outputs = net(im)
                loss = criterion(outputs,label)
                # backward
                loss.backward()
                # 更新参数
                optimizer.step()
                # 累计损失
                train_loss += loss.item()
                train_acc += get_acc(outputs,label).item()
                pbar.set_postfix(**{'Train Acc' : train_acc/(step+1),
                                'Train Loss' :train_loss/(step+1)})
                pbar.update(1)
            pbar.close()
        train_loss = train_loss / len(trainloader)
        train_acc = train_acc * 100 / len(trainloader)
        if verbose:
            train_acc_list.append(train_acc)
            train_loss_list.append(train_loss)
        # 记录学习率
        lr = optimizer.param_groups[0]['lr']
        if verbose:
            lr_list.append(lr)
        # 更新学习率
        scheduler.step(train_loss)
        if testloader is not None:
            net.eval()
            test_step = len(testloader)
            with torch.no_grad():
                with tqdm(total=test_step,desc=f'Test Epoch {i + 1}/{epochs}',postfix=dict,mininterval=0.3) as pbar:
                    for step,data in enumerate(testloader,start=0):
                        im,label = data
                        im = im.to(device)
                        label = label.to(device)
                        # 释放内存
                        if hasattr(torch.cuda, 'empty_cache'):
                            torch.cuda.empty_cache()
                        outputs = net(im)
                        loss = criterion(outputs,label)
                        test_loss += loss.item()
                        test_acc += get_acc(outputs,label).item()
                        pbar.set_postfix(**{'Test Acc' : test_acc/(step+1),
                                'Test Loss' :test_loss/(step+1)})
                        pbar.update(1)
                    pbar.close()
                test_loss = test_loss / len(testloader)
                test_acc = test_acc * 100 / len(testloader)
            if verbose:
                test_loss_list.append(test_loss)
                test_acc_list.append(test_acc)
            print(
                'Epoch [{:>3d}/{:>3d}]  Train Loss:{:>.6f}  Train Acc:{:>3.2f}% Test Loss:{:>.6f}  Test Acc:{:>3.2f}%  Learning Rate:{:>.6f}'.format(
                    i + 1, epochs, train_loss, train_acc, test_loss, test_acc,lr))
        else:
            print('Epoch [{:>3d}/{:>3d}]  Train Loss:{:>.6f}  Train Acc:{:>3.2f}%  Learning Rate:{:>.6f}'.format(i+1,epochs,train_loss,train_acc,lr))

        # ====================== 使用 tensorboard ==================
        if writer is not None:
            writer.add_scalars('Loss', {'train': train_loss,
                                    'test': test_loss}, i+1)
            writer.add_scalars('Acc', {'train': train_acc ,
                                   'test': test_acc}, i+1)
            writer.add_scalar('Learning Rate',lr,i+1)
        # =========================================================
        # 如果取得更好的准确率，就保存模型
        if test_acc > best_acc:
            torch.save(net,path)
            best_acc = test_acc
    Acc = {}
    Loss = {}
    Acc['train_acc'] = train_acc_list
    Acc['test_acc'] = test_acc_list
    Loss['train_loss'] = train_loss_list
    Loss['test_loss'] = test_loss_list
    Lr = lr_list
    return Acc, Loss, Lr
