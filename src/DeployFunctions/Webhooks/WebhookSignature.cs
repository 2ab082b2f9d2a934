using Microsoft.Extensions.Options;
using Octokit.Webhooks;

namespace DeployFunctions.Webhooks;

/// <summary>
/// Checks <c>X-Hub-Signature-256</c> against every configured secret, in constant time per secret
/// (Octokit.Webhooks' validator). Unlike that validator on its own, it never passes a delivery when no secret is set.
/// </summary>
public sealed class WebhookSignature
{
    private readonly string[] secrets;

    public WebhookSignature(IOptions<WebhookOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        secrets = [.. options.Value.Secrets.Where(secret => !string.IsNullOrWhiteSpace(secret))];
    }

    /// <summary>True when <paramref name="signatureHeader"/> is a valid <c>sha256=</c> HMAC of the body under one of the secrets.</summary>
    public bool IsValid(string? signatureHeader, ReadOnlySpan<byte> body)
    {
        if (string.IsNullOrEmpty(signatureHeader) || secrets.Length == 0)
        {
            return false;
        }

        var valid = false;
        foreach (var secret in secrets)
        {
            // No early exit: the time taken does not tell which secret (if any) matched.
            valid |= WebhookSignatureValidator.Verify(signatureHeader, secret, body) == WebhookSignatureValidationResult.Valid;
        }

        return valid;
    }
}
