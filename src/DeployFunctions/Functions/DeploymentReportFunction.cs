using DeployFunctions.Deployments;
using DeployFunctions.Providers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace DeployFunctions.Functions;

/// <summary>
/// <c>POST /api/deployments/report</c>: an asynchronous deploy hook's signed report (<see cref="DeploymentReports"/>).
/// Anonymous at the host: the HMAC with the environment's hook secret is the authentication.
/// </summary>
public sealed class DeploymentReportFunction(DeploymentReports reports)
{
    public const string Name = "DeploymentReport";

    [Function(Name)]
    public async Task<IActionResult> Run(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "deployments/report")] HttpRequest request,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var tooLarge = new SnakeCaseAnswer(413, new { status = "rejected", reason = $"a report is at most {DeploymentReports.MaxBytes} bytes" });
        if (request.ContentLength > DeploymentReports.MaxBytes)
        {
            return tooLarge;
        }

        // The endpoint is anonymous: the cap holds while reading (a chunked body declares no length), and nothing past it is read.
        var body = await ReadAtMostAsync(request.Body, DeploymentReports.MaxBytes, cancellationToken);
        if (body is null)
        {
            return tooLarge;
        }

        var answer = await reports.ApplyAsync(body.Value, request.Headers[HttpDeployHookProvider.SignatureHeader].FirstOrDefault(), cancellationToken);
        return new SnakeCaseAnswer(answer.Status, new { status = answer.Outcome, reason = answer.Reason });
    }

    /// <summary>The whole body when it is at most <paramref name="limit"/> bytes; null as soon as one byte more arrives.</summary>
    internal static async Task<ReadOnlyMemory<byte>?> ReadAtMostAsync(Stream body, int limit, CancellationToken cancellationToken)
    {
        var buffer = new byte[limit + 1];
        var filled = 0;
        int read;
        while (filled < buffer.Length && (read = await body.ReadAsync(buffer.AsMemory(filled), cancellationToken)) > 0)
        {
            filled += read;
        }

        return filled > limit ? (ReadOnlyMemory<byte>?)null : buffer.AsMemory(0, filled);
    }
}
