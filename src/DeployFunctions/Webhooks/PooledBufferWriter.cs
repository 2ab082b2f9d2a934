using System.Buffers;

namespace DeployFunctions.Webhooks;

/// <summary>
/// An <see cref="IBufferWriter{T}"/> over an array rented from <see cref="ArrayPool{T}.Shared"/>, returned on dispose.
/// The ingress writes every accepted delivery's message (the whole payload) through one: a fresh 30 KB array per
/// delivery costs more in cache misses and collections than writing it does (docs/benchmarks.md).
/// </summary>
public sealed class PooledBufferWriter(int initialCapacity) : IBufferWriter<byte>, IDisposable
{
    private byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Max(initialCapacity, 256));
    private int written;

    /// <summary>What has been written; valid until the writer is disposed.</summary>
    public ReadOnlyMemory<byte> WrittenMemory
    {
        get
        {
            ObjectDisposedException.ThrowIf(buffer.Length == 0, this);
            return buffer.AsMemory(0, written);
        }
    }

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, buffer.Length - written);
        written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0) => buffer.AsMemory(Reserve(sizeHint));

    public Span<byte> GetSpan(int sizeHint = 0) => buffer.AsSpan(Reserve(sizeHint));

    public void Dispose()
    {
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = [];
        }
    }

    private int Reserve(int sizeHint)
    {
        ObjectDisposedException.ThrowIf(buffer.Length == 0, this);
        var needed = written + Math.Max(sizeHint, 1);
        if (needed > buffer.Length)
        {
            var grown = ArrayPool<byte>.Shared.Rent(Math.Max(needed, buffer.Length * 2));
            buffer.AsSpan(0, written).CopyTo(grown);
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = grown;
        }

        return written;
    }
}
