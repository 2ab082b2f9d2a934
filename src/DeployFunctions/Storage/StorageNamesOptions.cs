using System.Text.RegularExpressions;
using DeployFunctions.Webhooks;
using Microsoft.Extensions.Options;

namespace DeployFunctions.Storage;

/// <summary>
/// Names of the queues and the claim-check container. Root-level app settings, because the queue triggers read
/// the same settings as binding expressions (<c>%PullRequestsQueue%</c>).
/// </summary>
public sealed class StorageNamesOptions
{
    public const string DefaultPullRequestsQueue = "github-pull-requests";
    public const string DefaultDeploymentsQueue = "github-deployments";
    public const string DefaultDeploymentStatusesQueue = "github-deployment-statuses";
    public const string DefaultPayloadContainer = "webhook-payloads";
    public const string DefaultLockContainer = "deployment-locks";
    public const string DefaultHistoryTable = "DeploymentHistory";
    public const string DefaultLedgerTable = "DeploymentLedger";
    public const string DefaultCommandsQueue = "github-commands";
    public const string DefaultProtectionRulesQueue = "github-protection-rules";
    public const string DefaultLockTable = "EnvironmentLocks";
    public const string DefaultBoardTable = "DeployBoard";
    public const string DefaultPreviewsQueue = "github-previews";
    public const string DefaultPreviewTable = "Previews";

    /// <summary>App setting <c>PullRequestsQueue</c>.</summary>
    public string PullRequestsQueue { get; set; } = DefaultPullRequestsQueue;

    /// <summary>App setting <c>DeploymentsQueue</c>.</summary>
    public string DeploymentsQueue { get; set; } = DefaultDeploymentsQueue;

    /// <summary>App setting <c>DeploymentStatusesQueue</c>.</summary>
    public string DeploymentStatusesQueue { get; set; } = DefaultDeploymentStatusesQueue;

    /// <summary>Pull request comments that are commands. App setting <c>CommandsQueue</c>.</summary>
    public string CommandsQueue { get; set; } = DefaultCommandsQueue;

    /// <summary>Deployment protection rule requests (GitHub App). App setting <c>ProtectionRulesQueue</c>.</summary>
    public string ProtectionRulesQueue { get; set; } = DefaultProtectionRulesQueue;

    /// <summary>Pull requests opened, pushed to or closed, for preview environments (<c>Previews__Enabled</c>). App setting <c>PreviewsQueue</c>.</summary>
    public string PreviewsQueue { get; set; } = DefaultPreviewsQueue;

    /// <summary>Table of preview environments, one row per pull request. App setting <c>PreviewTable</c>.</summary>
    public string PreviewTable { get; set; } = DefaultPreviewTable;

    /// <summary>Table of environment locks (<c>.lock</c>) and notices posted once. App setting <c>LockTable</c>.</summary>
    public string LockTable { get; set; } = DefaultLockTable;

    /// <summary>Blob container for payloads too large for a queue message. App setting <c>PayloadContainer</c>.</summary>
    public string PayloadContainer { get; set; } = DefaultPayloadContainer;

    /// <summary>Blob container for locks and idempotency records. App setting <c>LockContainer</c>.</summary>
    public string LockContainer { get; set; } = DefaultLockContainer;

    /// <summary>Table of the deploy board's summary rows (environments, results, day totals). App setting <c>BoardTable</c>.</summary>
    public string BoardTable { get; set; } = DefaultBoardTable;

    /// <summary>Table of deployment status history. App setting <c>HistoryTable</c>.</summary>
    public string HistoryTable { get; set; } = DefaultHistoryTable;

    /// <summary>Table of the deployments the app approved and what became of them. App setting <c>LedgerTable</c>.</summary>
    public string LedgerTable { get; set; } = DefaultLedgerTable;

    public string QueueFor(DeliveryQueueKind kind) => kind switch
    {
        DeliveryQueueKind.PullRequests => PullRequestsQueue,
        DeliveryQueueKind.Deployments => DeploymentsQueue,
        DeliveryQueueKind.DeploymentStatuses => DeploymentStatusesQueue,
        DeliveryQueueKind.Commands => CommandsQueue,
        DeliveryQueueKind.ProtectionRules => ProtectionRulesQueue,
        DeliveryQueueKind.Previews => PreviewsQueue,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown queue."),
    };
}

internal sealed partial class StorageNamesOptionsValidator : IValidateOptions<StorageNamesOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageNamesOptions options)
    {
        var failures = new List<string>();
        // 56 characters at most, so that "<name>-poison" is still a valid queue name.
        CheckName(failures, nameof(options.PullRequestsQueue), options.PullRequestsQueue, 56);
        CheckName(failures, nameof(options.DeploymentsQueue), options.DeploymentsQueue, 56);
        CheckName(failures, nameof(options.DeploymentStatusesQueue), options.DeploymentStatusesQueue, 56);
        CheckName(failures, nameof(options.CommandsQueue), options.CommandsQueue, 56);
        CheckName(failures, nameof(options.ProtectionRulesQueue), options.ProtectionRulesQueue, 56);
        CheckName(failures, nameof(options.PreviewsQueue), options.PreviewsQueue, 56);
        CheckName(failures, nameof(options.PayloadContainer), options.PayloadContainer, 63);
        CheckName(failures, nameof(options.LockContainer), options.LockContainer, 63);
        CheckTable(failures, nameof(options.HistoryTable), options.HistoryTable);
        CheckTable(failures, nameof(options.LedgerTable), options.LedgerTable);
        CheckTable(failures, nameof(options.LockTable), options.LockTable);
        CheckTable(failures, nameof(options.BoardTable), options.BoardTable);
        CheckTable(failures, nameof(options.PreviewTable), options.PreviewTable);
        var tables = new[] { options.HistoryTable, options.LedgerTable, options.LockTable, options.BoardTable, options.PreviewTable };
        if (tables.Distinct(StringComparer.OrdinalIgnoreCase).Count() != tables.Length)
        {
            failures.Add("HistoryTable, LedgerTable, LockTable, BoardTable and PreviewTable must be five different tables.");
        }

        var queues = new[] { options.PullRequestsQueue, options.DeploymentsQueue, options.DeploymentStatusesQueue, options.CommandsQueue, options.ProtectionRulesQueue, options.PreviewsQueue };
        if (queues.Distinct(StringComparer.Ordinal).Count() != queues.Length)
        {
            failures.Add("PullRequestsQueue, DeploymentsQueue, DeploymentStatusesQueue, CommandsQueue, ProtectionRulesQueue and PreviewsQueue must be six different queues.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void CheckName(List<string> failures, string setting, string value, int maxLength)
    {
        if (value is null || value.Length < 3 || value.Length > maxLength || !StorageName().IsMatch(value))
        {
            failures.Add(
                $"App setting {setting} ('{value}') must be 3-{maxLength} lowercase letters, digits and single hyphens, " +
                "starting and ending with a letter or digit.");
        }
    }

    private static void CheckTable(List<string> failures, string setting, string value)
    {
        if (value is null || !TableName().IsMatch(value))
        {
            failures.Add($"App setting {setting} ('{value}') must be 3-63 letters and digits, starting with a letter.");
        }
    }

    [GeneratedRegex("^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9]))*$")]
    private static partial Regex StorageName();

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9]{2,62}$")]
    private static partial Regex TableName();
}
