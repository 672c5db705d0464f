"""Stage 4: attention decoder (the CTC head is a single nn.Linear built in model.py)."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class Attention(nn.Module):
    def __init__(self, input_size, hidden_size, num_classes):
        super().__init__()
        self.attention_cell = AttentionCell(input_size, hidden_size, num_classes)
        self.hidden_size = hidden_size
        self.num_classes = num_classes
        self.generator = nn.Linear(hidden_size, num_classes)

    def forward(self, batch_H, text, is_train=True, batch_max_length=25):
        """batch_H: batch x T x input_size encoder states.
        text: batch x (batch_max_length + 1) class indices starting with [GO] (index 0).
        Returns batch x (batch_max_length + 1) x num_classes scores.
        """
        batch_size = batch_H.size(0)
        num_steps = batch_max_length + 1
        hidden = (batch_H.new_zeros(batch_size, self.hidden_size),
                  batch_H.new_zeros(batch_size, self.hidden_size))
        batch_H_proj = self.attention_cell.i2h(batch_H)  # the same at every step: project once
        if is_train:
            step_hiddens = []
            for i in range(num_steps):
                onehots = F.one_hot(text[:, i], self.num_classes).to(batch_H.dtype)
                hidden, _ = self.attention_cell(hidden, batch_H, onehots, batch_H_proj)
                step_hiddens.append(hidden[0])
            return self.generator(torch.stack(step_hiddens, dim=1))

        targets = torch.zeros(batch_size, dtype=torch.long, device=batch_H.device)  # [GO]
        step_scores = []
        for _ in range(num_steps):
            onehots = F.one_hot(targets, self.num_classes).to(batch_H.dtype)
            hidden, _ = self.attention_cell(hidden, batch_H, onehots, batch_H_proj)
            scores = self.generator(hidden[0])
            step_scores.append(scores)
            targets = scores.argmax(1)
        return torch.stack(step_scores, dim=1)


class AttentionCell(nn.Module):
    def __init__(self, input_size, hidden_size, num_embeddings):
        super().__init__()
        self.i2h = nn.Linear(input_size, hidden_size, bias=False)
        self.h2h = nn.Linear(hidden_size, hidden_size)
        self.score = nn.Linear(hidden_size, 1, bias=False)
        self.rnn = nn.LSTMCell(input_size + num_embeddings, hidden_size)
        self.hidden_size = hidden_size

    def forward(self, prev_hidden, batch_H, char_onehots, batch_H_proj=None):
        if batch_H_proj is None:
            batch_H_proj = self.i2h(batch_H)
        prev_hidden_proj = self.h2h(prev_hidden[0]).unsqueeze(1)
        energy = self.score(torch.tanh(batch_H_proj + prev_hidden_proj))  # batch x T x 1
        alpha = F.softmax(energy, dim=1)
        context = torch.bmm(alpha.permute(0, 2, 1), batch_H).squeeze(1)
        cur_hidden = self.rnn(torch.cat([context, char_onehots], 1), prev_hidden)
        return cur_hidden, alpha
