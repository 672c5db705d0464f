"""Stage 2: CNN feature extractors (VGG from CRNN, RCNN from GRCNN, ResNet from FAN).

Each maps batch x input_channel x imgH x imgW to batch x output_channel x 1 x T.
"""
import torch
import torch.nn as nn


class VGG_FeatureExtractor(nn.Module):
    def __init__(self, input_channel, output_channel=512):
        super().__init__()
        c = [output_channel // 8, output_channel // 4, output_channel // 2, output_channel]
        self.output_channel = c
        self.ConvNet = nn.Sequential(
            nn.Conv2d(input_channel, c[0], 3, 1, 1), nn.ReLU(True), nn.MaxPool2d(2, 2),
            nn.Conv2d(c[0], c[1], 3, 1, 1), nn.ReLU(True), nn.MaxPool2d(2, 2),
            nn.Conv2d(c[1], c[2], 3, 1, 1), nn.ReLU(True),
            nn.Conv2d(c[2], c[2], 3, 1, 1), nn.ReLU(True), nn.MaxPool2d((2, 1), (2, 1)),
            nn.Conv2d(c[2], c[3], 3, 1, 1, bias=False), nn.BatchNorm2d(c[3]), nn.ReLU(True),
            nn.Conv2d(c[3], c[3], 3, 1, 1, bias=False), nn.BatchNorm2d(c[3]), nn.ReLU(True),
            nn.MaxPool2d((2, 1), (2, 1)),
            nn.Conv2d(c[3], c[3], 2, 1, 0), nn.ReLU(True))

    def forward(self, image):
        return self.ConvNet(image)


class RCNN_FeatureExtractor(nn.Module):
    def __init__(self, input_channel, output_channel=512):
        super().__init__()
        c = [output_channel // 8, output_channel // 4, output_channel // 2, output_channel]
        self.output_channel = c
        self.ConvNet = nn.Sequential(
            nn.Conv2d(input_channel, c[0], 3, 1, 1), nn.ReLU(True), nn.MaxPool2d(2, 2),
            GRCL(c[0], c[0], num_iteration=5, kernel_size=3, pad=1), nn.MaxPool2d(2, 2),
            GRCL(c[0], c[1], num_iteration=5, kernel_size=3, pad=1), nn.MaxPool2d(2, (2, 1), (0, 1)),
            GRCL(c[1], c[2], num_iteration=5, kernel_size=3, pad=1), nn.MaxPool2d(2, (2, 1), (0, 1)),
            nn.Conv2d(c[2], c[3], 2, 1, 0, bias=False), nn.BatchNorm2d(c[3]), nn.ReLU(True))

    def forward(self, image):
        return self.ConvNet(image)


class GRCL(nn.Module):
    """Gated recurrent convolution layer: the same convolutions applied num_iteration times."""

    def __init__(self, input_channel, output_channel, num_iteration, kernel_size, pad):
        super().__init__()
        self.wgf_u = nn.Conv2d(input_channel, output_channel, 1, 1, 0, bias=False)
        self.wgr_x = nn.Conv2d(output_channel, output_channel, 1, 1, 0, bias=False)
        self.wf_u = nn.Conv2d(input_channel, output_channel, kernel_size, 1, pad, bias=False)
        self.wr_x = nn.Conv2d(output_channel, output_channel, kernel_size, 1, pad, bias=False)
        self.BN_x_init = nn.BatchNorm2d(output_channel)
        self.num_iteration = num_iteration
        self.GRCL = nn.Sequential(*[GRCL_unit(output_channel) for _ in range(num_iteration)])

    def forward(self, feature):
        wgf_u = self.wgf_u(feature)
        wf_u = self.wf_u(feature)
        x = torch.relu(self.BN_x_init(wf_u))
        for unit in self.GRCL:
            x = unit(wgf_u, self.wgr_x(x), wf_u, self.wr_x(x))
        return x


class GRCL_unit(nn.Module):
    def __init__(self, output_channel):
        super().__init__()
        self.BN_gfu = nn.BatchNorm2d(output_channel)
        self.BN_grx = nn.BatchNorm2d(output_channel)
        self.BN_fu = nn.BatchNorm2d(output_channel)
        self.BN_rx = nn.BatchNorm2d(output_channel)
        self.BN_Gx = nn.BatchNorm2d(output_channel)

    def forward(self, wgf_u, wgr_x, wf_u, wr_x):
        gate = torch.sigmoid(self.BN_gfu(wgf_u) + self.BN_grx(wgr_x))
        return torch.relu(self.BN_fu(wf_u) + self.BN_Gx(self.BN_rx(wr_x) * gate))


class ResNet_FeatureExtractor(nn.Module):
    def __init__(self, input_channel, output_channel=512):
        super().__init__()
        self.ConvNet = ResNet(input_channel, output_channel, BasicBlock, [1, 2, 5, 3])

    def forward(self, image):
        return self.ConvNet(image)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        residual = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + residual)


class ResNet(nn.Module):
    def __init__(self, input_channel, output_channel, block, layers):
        super().__init__()
        block_channels = [output_channel // 4, output_channel // 2, output_channel, output_channel]
        self.output_channel_block = block_channels
        self.inplanes = output_channel // 8

        def conv_bn(c_in, c_out, kernel=3, stride=1, padding=1):
            return nn.Conv2d(c_in, c_out, kernel, stride, padding, bias=False), nn.BatchNorm2d(c_out)

        self.conv0_1, self.bn0_1 = conv_bn(input_channel, output_channel // 16)
        self.conv0_2, self.bn0_2 = conv_bn(output_channel // 16, self.inplanes)
        self.relu = nn.ReLU(inplace=True)

        self.maxpool1 = nn.MaxPool2d(2, 2, 0)
        self.layer1 = self._make_layer(block, block_channels[0], layers[0])
        self.conv1, self.bn1 = conv_bn(block_channels[0], block_channels[0])

        self.maxpool2 = nn.MaxPool2d(2, 2, 0)
        self.layer2 = self._make_layer(block, block_channels[1], layers[1])
        self.conv2, self.bn2 = conv_bn(block_channels[1], block_channels[1])

        self.maxpool3 = nn.MaxPool2d(2, (2, 1), (0, 1))
        self.layer3 = self._make_layer(block, block_channels[2], layers[2])
        self.conv3, self.bn3 = conv_bn(block_channels[2], block_channels[2])

        self.layer4 = self._make_layer(block, block_channels[3], layers[3])
        self.conv4_1, self.bn4_1 = conv_bn(block_channels[3], block_channels[3], 2, (2, 1), (0, 1))
        self.conv4_2, self.bn4_2 = conv_bn(block_channels[3], block_channels[3], 2, 1, 0)

    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.relu(self.bn0_1(self.conv0_1(x)))
        x = self.relu(self.bn0_2(self.conv0_2(x)))
        x = self.layer1(self.maxpool1(x))
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer2(self.maxpool2(x))
        x = self.relu(self.bn2(self.conv2(x)))
        x = self.layer3(self.maxpool3(x))
        x = self.relu(self.bn3(self.conv3(x)))
        x = self.layer4(x)
        x = self.relu(self.bn4_1(self.conv4_1(x)))
        return self.relu(self.bn4_2(self.conv4_2(x)))
