"""Stage 4, the prediction layer: CTC's per-frame classifier or the attention decoder. Both take the same
call, so `Model` never asks which one it holds; what the scores mean (frames or steps, blank or [GO]/[s])
is the business of heads.py."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class CTC(nn.Linear):
    """One class distribution per frame (an nn.Linear, so dtrb's `Prediction.weight/bias` keys load)."""

    def __init__(self, input_size, hidden_size, num_classes):
        super().__init__(input_size, num_classes)

    def forward(self, batch_H, text=None, is_train=True, batch_max_length=25):
        return super().forward(batch_H)


class Attention(nn.Module):
    def __init__(self, input_size, hidden_size, num_classes):
        super().__init__()
        self.attention_cell = AttentionCell(input_size, hidden_size, num_classes)
        self.hidden_size = hidden_size
        self.num_classes = num_classes
        self.generator = nn.Linear(hidden_size, num_classes)

    def start(self, batch_H):
        """The decoder state before the first step: (zero LSTM state, the encoder states projected once)."""
        hidden = (batch_H.new_zeros(batch_H.size(0), self.hidden_size),
                  batch_H.new_zeros(batch_H.size(0), self.hidden_size))
        return hidden, self.attention_cell.i2h(batch_H)

    def step(self, hidden, batch_H, batch_H_proj, previous):
        """One decoding step: previous (batch class indices, [GO] = 0 first) -> (new hidden, batch x class scores).
        Beam search calls this with the batch axis holding the hypotheses."""
        onehots = F.one_hot(previous, self.num_classes).to(batch_H.dtype)
        hidden, _ = self.attention_cell(hidden, batch_H, onehots, batch_H_proj)
        return hidden, self.generator(hidden[0])

    def forward(self, batch_H, text, is_train=True, batch_max_length=25):
        """batch_H: batch x T x input_size encoder states.
        text: batch x (batch_max_length + 1) class indices starting with [GO] (index 0).
        Returns batch x (batch_max_length + 1) x num_classes scores: teacher-forced from `text` in training,
        else each step fed the previous step's best class (greedy; decoding.py searches with step())."""
        hidden, batch_H_proj = self.start(batch_H)
        if is_train:
            step_hiddens = []
            for i in range(batch_max_length + 1):
                onehots = F.one_hot(text[:, i], self.num_classes).to(batch_H.dtype)
                hidden, _ = self.attention_cell(hidden, batch_H, onehots, batch_H_proj)
                step_hiddens.append(hidden[0])
            return self.generator(torch.stack(step_hiddens, dim=1))

        previous = torch.zeros(batch_H.size(0), dtype=torch.long, device=batch_H.device)  # [GO]
        step_scores = []
        for _ in range(batch_max_length + 1):
            hidden, scores = self.step(hidden, batch_H, batch_H_proj, previous)
            step_scores.append(scores)
            previous = scores.argmax(1)
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
