using System.Net.Http.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DeployFunctions.History;

/// <summary>Where notifications go. Section <c>Notifications</c>.</summary>
public sealed class NotificationOptions
{
    public const string SectionName = "Notifications";

    /// <summary>
    /// A Slack- or Teams-compatible incoming webhook URL (JSON <c>{"text": …}</c>); empty: no notifications.
    /// App setting <c>Notifications__WebhookUrl</c>.
    /// </summary>
    public Uri? WebhookUrl { get; set; }
}

internal sealed class NotificationOptionsValidator : IValidateOptions<NotificationOptions>
{
    public ValidateOptionsResult Validate(string? name, NotificationOptions options) =>
        options.WebhookUrl is not { } url || (url.IsAbsoluteUri && url.Scheme is "https" or "http")
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(
                "Notifications__WebhookUrl must be an absolute http(s) URL, or empty for no notifications (an unresolved Key Vault " +
                "reference is not one: check the app's access to the vault).");
}

public interface INotifier
{
    /// <summary>Posts <paramref name="text"/>; never throws (a notification must not fail a deployment).</summary>
    Task NotifyAsync(string text, CancellationToken cancellationToken);
}

public sealed partial class IncomingWebhookNotifier(
    HttpClient http, IOptions<NotificationOptions> options, ILogger<IncomingWebhookNotifier> logger) : INotifier
{
    public async Task NotifyAsync(string text, CancellationToken cancellationToken)
    {
        if (options.Value.WebhookUrl is not { } url)
        {
            return;
        }

        try
        {
            using var response = await http.PostAsJsonAsync(url, new { text }, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                LogFailed(logger, (int)response.StatusCode);
            }
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
        {
            LogUnreachable(logger, exception.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Notification webhook answered {StatusCode}")]
    private static partial void LogFailed(ILogger logger, int statusCode);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Notification webhook unreachable: {Error}")]
    private static partial void LogUnreachable(ILogger logger, string error);
}
