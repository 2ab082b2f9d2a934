using System.Security.Cryptography;
using System.Text;
using DeployFunctions.Webhooks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace DeployFunctions.Tests.Support;

/// <summary>Signed GitHub deliveries, as GitHub's hookshot sends them.</summary>
internal static class Deliveries
{
    public const string Secret = "test-webhook-secret";

    /// <summary>Pass as <c>deliveryId</c> to send no <c>X-GitHub-Delivery</c> header.</summary>
    public const string NoHeader = "";

    public static string Sign(ReadOnlySpan<byte> body, string secret = Secret) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    public static IOptions<WebhookOptions> Options(params string[] secrets)
    {
        var options = new WebhookOptions();
        foreach (var secret in secrets.Length == 0 ? [Secret] : secrets)
        {
            options.Secrets.Add(secret);
        }

        return Microsoft.Extensions.Options.Options.Create(options);
    }

    /// <summary>The guide's form encoding: <c>payload=&lt;url-encoded JSON&gt;</c>.</summary>
    public static byte[] Form(byte[] json) =>
        Encoding.ASCII.GetBytes("payload=" + Uri.EscapeDataString(Encoding.UTF8.GetString(json)));

    public static HttpRequest Request(
        string? eventName,
        byte[] body,
        string? deliveryId = null,
        string? contentType = "application/json",
        string? signature = null,
        bool sign = true,
        bool sendContentLength = true)
    {
        var context = new DefaultHttpContext();
        var request = context.Request;
        request.Method = "POST";
        request.Path = "/api/github/webhooks";
        request.Headers.UserAgent = "GitHub-Hookshot/044aadd";
        if (eventName is not null)
        {
            request.Headers["X-GitHub-Event"] = eventName;
        }

        if (deliveryId != NoHeader)
        {
            request.Headers["X-GitHub-Delivery"] = deliveryId ?? Guid.NewGuid().ToString();
        }
        request.Headers["X-GitHub-Hook-ID"] = "292430182";
        if (contentType is not null)
        {
            request.ContentType = contentType;
        }

        if (signature is not null || sign)
        {
            request.Headers["X-Hub-Signature-256"] = signature ?? Sign(body);
        }

        request.Body = new MemoryStream(body);
        if (sendContentLength)
        {
            request.ContentLength = body.Length;
        }

        context.Response.Body = new MemoryStream();
        return request;
    }
}
