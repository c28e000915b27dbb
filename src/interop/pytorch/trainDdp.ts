// train_ddp.py: continues training the exported model in PyTorch with DistributedDataParallel (torch.distributed,
// gloo backend, CPU), one process per torchrun worker, from the exported weights; it writes the weights back with
// wasmgrad's names and model description, so wasmgrad reads them again (loadStateDict, `wasmgrad predict`).

/** The text of train_ddp.py (the same for every model: model.py holds what differs). */
export function trainDdpPy(): string {
  return `"""Continue training the exported wasmgrad model with PyTorch DistributedDataParallel.

    torchrun --standalone --nproc_per_node 2 train_ddp.py --data data.safetensors --epochs 5
    # several machines: on each, torchrun --nnodes N --node_rank R --master_addr HOST --master_port PORT
    #                   --nproc_per_node P train_ddp.py ...
    # torch 1.13 under Python 3.11 (Debian 12's python3-torch): add --redirects 1 --tee 1 after torchrun, whose
    # defaults fail there (AttributeError: 'NoneType' object has no attribute 'get').

--data is a safetensors file with a tensor 'x' (a batch of inputs as model.prepare takes them) and a tensor 'y'
(class ids, next-token ids with -100 for none, or regression targets); from wasmgrad:
writeFileSync('data.safetensors', toSafetensors({ x, y })). Each process trains on its share of the samples
(DistributedSampler) and DDP averages the gradients, so N processes with --batch-size B take the steps of one
process with batch N*B. The gloo backend runs on CPUs; on GPUs use nccl and move the model and batches to cuda.
Process 0 writes the weights to --out with wasmgrad's names and model description: wasmgrad's loadStateDict and
\`wasmgrad predict --model <out>\` read them.
"""
import argparse

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler

import model as exported


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="safetensors file with tensors 'x' and 'y'")
    parser.add_argument("--weights", default="model.safetensors", help="the weights to start from")
    parser.add_argument("--out", default="trained.safetensors", help="where process 0 writes the trained weights")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (0: no limit)")
    parser.add_argument("--batch-size", type=int, default=64, help="samples per step in each process")
    parser.add_argument("--optimizer", choices=["adam", "sgd"], default="adam")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    dist.init_process_group("gloo")  # torchrun gives each process its RANK, WORLD_SIZE and the master's address
    rank = dist.get_rank()
    torch.manual_seed(args.seed)
    metadata = exported.load_safetensors(args.weights)[1]
    model = exported.load_model(args.weights).train()
    ddp = DistributedDataParallel(model)  # broadcasts process 0's weights; averages gradients in backward()
    data = exported.load_safetensors(args.data)[0]
    dataset = TensorDataset(exported.prepare(data["x"]), data["y"])
    sampler = DistributedSampler(dataset, shuffle=True, seed=args.seed)
    loader = DataLoader(dataset, batch_size=args.batch_size, sampler=sampler)
    if args.optimizer == "adam":
        optimizer = torch.optim.Adam(ddp.parameters(), lr=args.lr)
    else:
        optimizer = torch.optim.SGD(ddp.parameters(), lr=args.lr)

    step = 0
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)  # a different shuffle each epoch, the same in every process
        for x, y in loader:
            optimizer.zero_grad()
            loss = exported.loss_fn(ddp(x), y)
            loss.backward()
            optimizer.step()
            step += 1
            if rank == 0 and step % 50 == 0:
                print(f"epoch {epoch + 1} step {step} loss {loss.item():.4f}", flush=True)
            if step == args.max_steps:
                break
        if step == args.max_steps:
            break

    if rank == 0:
        exported.save_safetensors(model.state_dict(), args.out, metadata)
        print(f"trained {step} steps on {dist.get_world_size()} processes; wrote {args.out}", flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
`;
}
