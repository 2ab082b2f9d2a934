using DeployFunctions.Deployments;
using DeployFunctions.Functions;
using DeployFunctions.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace DeployFunctions.Tests.Functions;

/// <summary>The anonymous hook-report endpoint under abuse: what it reads from a body that declares no length.</summary>
public sealed class ReportEndpointTests
{
    [Fact]
    public async Task A_chunked_body_past_the_cap_is_refused_with_413_before_it_is_read_whole()
    {
        using var services = TestHost.Services("UseDevelopmentStorage=true");
        var function = services.GetRequiredService<DeploymentReportFunction>();
        var context = new DefaultHttpContext();
        var body = new EndlessStream(16 * 1024 * 1024); // 16 MiB, sent chunked: no Content-Length
        context.Request.Method = "POST";
        context.Request.Body = body;

        var answer = Assert.IsType<SnakeCaseAnswer>(await function.Run(context.Request, CancellationToken.None));

        Assert.Equal(413, answer.StatusCode);
        Assert.InRange(body.Served, DeploymentReports.MaxBytes + 1, DeploymentReports.MaxBytes + 64 * 1024); // stopped right past the cap
    }

    /// <summary>A request body of <paramref name="length"/> bytes that counts what was read of it.</summary>
    private sealed class EndlessStream(long length) : Stream
    {
        public long Served { get; private set; }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => Served; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var count = (int)Math.Min(Math.Min(buffer.Length, 8192), length - Served);
            buffer[..count].Fill((byte)'{');
            Served += count;
            return count;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => new(Read(buffer.Span));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
