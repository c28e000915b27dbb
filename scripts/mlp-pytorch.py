# Native PyTorch's time per training step of the bench's MLP (784-128-10, ReLU, cross-entropy, plain SGD, batch 64)
# on one thread, for context beside `npm run bench` (README, Performance). Not run by CI.
#
#   OPENBLAS_NUM_THREADS=1 /usr/bin/python3 scripts/mlp-pytorch.py
#
# Debian's python3-torch takes its BLAS from the libblas.so.3 alternative: with only the reference BLAS installed it
# runs this step about 9× slower; `apt-get install libopenblas0-pthread` switches it to OpenBLAS. OpenBLAS keeps its
# own threads unless OPENBLAS_NUM_THREADS is set, whatever torch.set_num_threads says.
import time

import torch

torch.set_num_threads(1)
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
opt = torch.optim.SGD(model.parameters(), lr=0.01)
x = torch.randn(64, 784)
y = torch.randint(0, 10, (64,))


def step():
    opt.zero_grad()
    torch.nn.functional.cross_entropy(model(x), y).backward()
    opt.step()


for _ in range(200):
    step()
rounds = []
for _ in range(7):
    t = time.perf_counter()
    for _ in range(500):
        step()
    rounds.append((time.perf_counter() - t) / 500)
rounds.sort()
median = rounds[len(rounds) // 2]
print(f'PyTorch {torch.__version__}, MLP 784-128-10 b64 SGD step, one thread: median {median * 1e3:.3f} ms '
      f'(fastest round {rounds[0] * 1e3:.3f} ms), {64 / median:.0f} samples/s')
