"""Stage 3: contextual modelling of the feature sequence."""
import torch.nn as nn


class BidirectionalLSTM(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.rnn = nn.LSTM(input_size, hidden_size, bidirectional=True, batch_first=True)
        self.linear = nn.Linear(hidden_size * 2, output_size)

    def forward(self, sequence):
        """sequence: batch x T x input_size -> batch x T x output_size"""
        if sequence.is_cuda:
            self.rnn.flatten_parameters()  # DataParallel replicas lose the contiguous weight layout
        recurrent, _ = self.rnn(sequence)
        return self.linear(recurrent)
