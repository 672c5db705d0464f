"""Stage 1: thin-plate-spline rectification (RARE's TPS spatial transformer network)."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class TPS_SpatialTransformerNetwork(nn.Module):
    """Predicts `num_fiducial` control points and warps the input so the text lies straight.

    I_size is the input (H, W), I_r_size the rectified output (H, W).
    """

    def __init__(self, F, I_size, I_r_size, I_channel_num=1):
        super().__init__()
        self.F = F
        self.I_size = I_size
        self.I_r_size = I_r_size
        self.I_channel_num = I_channel_num
        self.LocalizationNetwork = LocalizationNetwork(F, I_channel_num)
        self.GridGenerator = GridGenerator(F, I_r_size)

    def forward(self, batch_I):
        batch_C_prime = self.LocalizationNetwork(batch_I)
        grid = self.GridGenerator.build_P_prime(batch_C_prime)
        grid = grid.reshape(-1, self.I_r_size[0], self.I_r_size[1], 2)
        # align_corners=True reproduces the sampling dtrb's weights were trained with.
        return F.grid_sample(batch_I, grid.to(batch_I.dtype), padding_mode='border', align_corners=True)


class LocalizationNetwork(nn.Module):
    """A small CNN regressing the fiducial points C' (batch x F x 2) in [-1, 1] coordinates."""

    def __init__(self, F, I_channel_num):
        super().__init__()
        self.F = F
        layers = []
        channels = [I_channel_num, 64, 128, 256, 512]
        for i, (c_in, c_out) in enumerate(zip(channels, channels[1:])):
            layers += [nn.Conv2d(c_in, c_out, 3, 1, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(True)]
            layers.append(nn.MaxPool2d(2, 2) if i < 3 else nn.AdaptiveAvgPool2d(1))
        self.conv = nn.Sequential(*layers)
        self.localization_fc1 = nn.Sequential(nn.Linear(512, 256), nn.ReLU(True))
        self.localization_fc2 = nn.Linear(256, F * 2)

        # Start from the identity-like rectangle of control points (RARE, section 3.1).
        self.localization_fc2.weight.data.fill_(0)
        half = F // 2
        ctrl_pts_x = np.linspace(-1.0, 1.0, half)
        top = np.stack([ctrl_pts_x, np.linspace(0.0, -1.0, half)], axis=1)
        bottom = np.stack([ctrl_pts_x, np.linspace(1.0, 0.0, half)], axis=1)
        initial_bias = np.concatenate([top, bottom], axis=0)
        self.localization_fc2.bias.data = torch.from_numpy(initial_bias).float().view(-1)

    def forward(self, batch_I):
        batch_size = batch_I.size(0)
        features = self.conv(batch_I).view(batch_size, -1)
        return self.localization_fc2(self.localization_fc1(features)).view(batch_size, self.F, 2)


class GridGenerator(nn.Module):
    """Turns fiducial points into a sampling grid P' with the TPS transform."""

    def __init__(self, F, I_r_size):
        super().__init__()
        self.eps = 1e-6
        self.I_r_height, self.I_r_width = I_r_size
        self.F = F
        C = self._build_C(F)
        P = self._build_P(self.I_r_width, self.I_r_height)
        # Buffers, not parameters: they are fixed, but dtrb's state_dict carries them.
        self.register_buffer('inv_delta_C', torch.tensor(self._build_inv_delta_C(F, C)).float())
        self.register_buffer('P_hat', torch.tensor(self._build_P_hat(F, C, P)).float())

    @staticmethod
    def _build_C(F):
        ctrl_pts_x = np.linspace(-1.0, 1.0, F // 2)
        top = np.stack([ctrl_pts_x, -np.ones(F // 2)], axis=1)
        bottom = np.stack([ctrl_pts_x, np.ones(F // 2)], axis=1)
        return np.concatenate([top, bottom], axis=0)

    @staticmethod
    def _build_P(width, height):
        grid_x = (np.arange(-width, width, 2) + 1.0) / width
        grid_y = (np.arange(-height, height, 2) + 1.0) / height
        P = np.stack(np.meshgrid(grid_x, grid_y), axis=2)
        return P.reshape([-1, 2])

    @staticmethod
    def _build_inv_delta_C(F, C):
        hat_C = np.linalg.norm(C[:, None, :] - C[None, :, :], axis=2)
        np.fill_diagonal(hat_C, 1)
        hat_C = (hat_C ** 2) * np.log(hat_C)
        delta_C = np.concatenate([
            np.concatenate([np.ones((F, 1)), C, hat_C], axis=1),
            np.concatenate([np.zeros((2, 3)), C.T], axis=1),
            np.concatenate([np.zeros((1, 3)), np.ones((1, F))], axis=1),
        ], axis=0)
        return np.linalg.inv(delta_C)

    def _build_P_hat(self, F, C, P):
        rbf_norm = np.linalg.norm(P[:, None, :] - C[None, :, :], axis=2)
        rbf = np.square(rbf_norm) * np.log(rbf_norm + self.eps)
        return np.concatenate([np.ones((P.shape[0], 1)), P, rbf], axis=1)

    def build_P_prime(self, batch_C_prime):
        batch_size = batch_C_prime.size(0)
        zeros = batch_C_prime.new_zeros(batch_size, 3, 2)
        batch_T = torch.matmul(self.inv_delta_C, torch.cat([batch_C_prime, zeros], dim=1))
        return torch.matmul(self.P_hat, batch_T)
