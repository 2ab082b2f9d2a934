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
        if (request.ContentLength > DeploymentReports.MaxBytes)
        {
            return new SnakeCaseAnswer(413, new { status = "rejected", reason = $"a report is at most {DeploymentReports.MaxBytes} bytes" });
        }

        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken);
        var answer = await reports.ApplyAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length),
            request.Headers[HttpDeployHookProvider.SignatureHeader].FirstOrDefault(), cancellationToken);
        return new SnakeCaseAnswer(answer.Status, new { status = answer.Outcome, reason = answer.Reason });
    }
}
