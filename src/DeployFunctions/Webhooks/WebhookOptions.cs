using Microsoft.Extensions.Options;

namespace DeployFunctions.Webhooks;

/// <summary>How the ingress authenticates and bounds GitHub deliveries. Section <c>Webhook</c>.</summary>
public sealed class WebhookOptions
{
    public const string SectionName = "Webhook";

    /// <summary>GitHub's own payload cap.</summary>
    public const long DefaultMaxBodyBytes = 25L * 1024 * 1024;

    /// <summary>
    /// The webhook secrets. Every delivery must be signed with one of them; more than one is allowed so a secret can
    /// be rotated without dropping deliveries (add the new one, change it on GitHub, remove the old one).
    /// App settings <c>Webhook__Secrets__0</c>, <c>Webhook__Secrets__1</c>, ...
    /// </summary>
    public IList<string> Secrets { get; } = [];

    /// <summary>Bodies larger than this are refused with 413 before they are read. App setting <c>Webhook__MaxBodyBytes</c>.</summary>
    public long MaxBodyBytes { get; set; } = DefaultMaxBodyBytes;

    /// <summary>
    /// The time the ingress gives storage to accept a delivery, retries included, before it answers 503.
    /// GitHub gives up after 10 s, so this stays below that. App setting <c>Webhook__StorageTimeoutSeconds</c>.
    /// </summary>
    public double StorageTimeoutSeconds { get; set; } = 7;
}

internal sealed class WebhookOptionsValidator : IValidateOptions<WebhookOptions>
{
    public ValidateOptionsResult Validate(string? name, WebhookOptions options)
    {
        var failures = new List<string>();
        if (!options.Secrets.Any(secret => !string.IsNullOrWhiteSpace(secret)))
        {
            failures.Add(
                "No webhook secret is configured: set the app setting Webhook__Secrets__0 to the secret of your GitHub " +
                "webhook (or GitHub App). Deliveries cannot be authenticated without it, so the app refuses to start.");
        }

        for (var index = 0; index < options.Secrets.Count; index++)
        {
            if (SecretSetting.Problem($"Webhook__Secrets__{index}", options.Secrets[index], SecretSetting.MinimumWebhookSecretLength) is { } problem)
            {
                failures.Add(problem);
            }
        }

        if (options.MaxBodyBytes is <= 0 or > 100L * 1024 * 1024)
        {
            failures.Add("Webhook__MaxBodyBytes must be between 1 and 104857600 (the Functions host's own request limit).");
        }

        if (options.StorageTimeoutSeconds is <= 0 or >= 10)
        {
            failures.Add("Webhook__StorageTimeoutSeconds must be above 0 and below 10 (GitHub waits 10 s for an answer).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
