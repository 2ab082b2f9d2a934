using System.Globalization;
using System.Text.Json.Nodes;
using Cronos;

namespace DeployFunctions.Config;

/// <summary>
/// A repository's <c>.github/deployfunctions.yml</c> (schema: <c>schema/deployfunctions.schema.json</c>). It narrows the
/// app's settings; <see cref="Deployments.DeployPolicy.Widens"/> refuses a file that would widen them.
/// </summary>
public sealed class RepositoryConfig
{
    public const string Path = ".github/deployfunctions.yml";

    public Dictionary<string, EnvironmentConfig> Environments { get; set; } = new(StringComparer.OrdinalIgnoreCase);
    public CommandsConfig? Commands { get; set; }

    /// <summary>A preview environment per pull request (<c>previews:</c>); null: none.</summary>
    public PreviewsConfig? Previews { get; set; }

    public EnvironmentConfig? For(string environment) =>
        Environments.FirstOrDefault(e => string.Equals(e.Key, environment, StringComparison.OrdinalIgnoreCase)).Value;
}

public sealed class EnvironmentConfig
{
    public List<string>? Branches { get; set; }
    public bool? AutoDeploy { get; set; }

    /// <summary>The string <c>all</c>, or a list of contexts.</summary>
    public JsonNode? RequiredContexts { get; set; }

    public bool? ProductionEnvironment { get; set; }
    public bool? TransientEnvironment { get; set; }
    public string? Provider { get; set; }
    public List<FreezeWindow> Freezes { get; set; } = [];

    /// <summary><c>wait</c> or <c>skip</c>.</summary>
    public string? FreezeMerges { get; set; }

    public bool? AllowForce { get; set; }

    /// <summary>
    /// A repository's own environment: the operator's target it deploys with (<c>Targets__&lt;name&gt;__*</c>, granted to this
    /// repository). Null: one of the app's environments, narrowed.
    /// </summary>
    public string? Target { get; set; }

    /// <summary>
    /// The environment's URL, reported with success when the provider gives none: a template with <c>{environment}</c>,
    /// <c>{owner}</c> and <c>{repository}</c> (the name), e.g. <c>https://{environment}.example.com</c>.
    /// </summary>
    public string? Url { get; set; }

    /// <summary>A repository's own environment on a <c>github-actions</c> target: the workflow file of the repository to dispatch.</summary>
    public string? Workflow { get; set; }

    /// <summary>People (logins) and teams (<c>org/team-slug</c>) one of whom must have approved a deploy here.</summary>
    public List<string>? Reviewers { get; set; }

    /// <summary>How many approvals a deploy here needs (only more than the app's one).</summary>
    public int? RequiredApprovals { get; set; }

    /// <summary>Environments the same commit must have succeeded in first (branch-deploy's <c>enforced_deployment_order</c>).</summary>
    public List<string>? Requires { get; set; }

    /// <summary>True when the file asks for every context (<c>all</c>).</summary>
    public bool RequiresAllContexts => RequiredContexts is JsonValue value && value.TryGetValue<string>(out var text) && text == "all";

    public IReadOnlyList<string> ListedContexts => RequiredContexts is JsonArray list
        ? [.. list.Select(c => (string?)c).OfType<string>()]
        : [];
}

/// <summary>A repository's <c>previews:</c>: where a pull request's preview deploys, under what name, at what URL.</summary>
public sealed class PreviewsConfig
{
    public const string DefaultEnvironment = "pr-{number}";

    /// <summary>The operator's target previews deploy with, granted to the repository.</summary>
    public string? Target { get; set; }

    /// <summary>The environment's name with <c>{number}</c> in it.</summary>
    public string? Environment { get; set; }

    /// <summary>An https template with <c>{number}</c>, <c>{environment}</c>, <c>{owner}</c> and <c>{repository}</c>.</summary>
    public string? Url { get; set; }

    /// <summary>On a <c>github-actions</c> target: the repository's workflow file to dispatch.</summary>
    public string? Workflow { get; set; }
}

public sealed class CommandsConfig
{
    public List<string>? AllowedUsers { get; set; }
    public string? MinimumPermission { get; set; }
    public bool? RequireApproval { get; set; }
    public bool? AllowForks { get; set; }
    public string? OutdatedMode { get; set; }
    public string? UpdateBranch { get; set; }
    public bool? DisableNakedCommands { get; set; }
    public List<string>? DraftPermittedTargets { get; set; }

    /// <summary>The string <c>all</c> or <c>required</c>, or a list of names that must also pass.</summary>
    public JsonNode? Checks { get; set; }

    public List<string>? IgnoredChecks { get; set; }
    public bool? AllowShaDeployments { get; set; }
    public List<string>? DeploymentConfirmation { get; set; }
}

/// <summary>
/// A deploy freeze: recurring (a cron expression, a duration, a time zone) or fixed (from, until), with a reason. App
/// setting <c>Freezes__&lt;n&gt;__*</c> (with <c>Environment</c>, empty for all) or a repository's <c>freezes</c>.
/// </summary>
public sealed class FreezeWindow
{
    /// <summary>App settings only: the environment it holds; empty: every environment.</summary>
    public string? Environment { get; set; }

    public string? Reason { get; set; }
    public string? Cron { get; set; }

    /// <summary><c>30m</c>, <c>64h</c>, <c>2d</c> or <c>hh:mm[:ss]</c>.</summary>
    public string? Duration { get; set; }

    public string? TimeZone { get; set; }
    public DateTimeOffset? From { get; set; }
    public DateTimeOffset? Until { get; set; }

    /// <summary>The longest a recurring freeze may last.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(366);

    /// <summary>
    /// When the freeze that holds <paramref name="at"/> ends, or null when none does. A recurring freeze's latest start in
    /// <c>[at - duration, at]</c> is found by a binary search over next occurrences (about 40 steps whatever the cron and the
    /// duration), never by walking every occurrence: a per-minute cron over a long duration costs the same as a weekly one.
    /// </summary>
    public DateTimeOffset? EndsAfter(DateTimeOffset at)
    {
        if (From is { } from && Until is { } until)
        {
            return at >= from && at < until ? until : null;
        }

        if (Cron is null || ParseDuration(Duration) is not { } length)
        {
            return null;
        }

        var expression = CronExpression.Parse(Cron, CronFormat.Standard);
        var zone = string.IsNullOrWhiteSpace(TimeZone) ? TimeZoneInfo.Utc : TimeZoneInfo.FindSystemTimeZoneById(TimeZone);
        if (expression.GetNextOccurrence(at - length, zone, inclusive: true) is not { } first || first > at)
        {
            return null;
        }

        // 'first' starts at or before 'at'. While another start lies in (low, at], halve the span that can hold the last one.
        var (low, high) = (first, at);
        while (expression.GetNextOccurrence(low, zone, inclusive: false) is { } next && next <= at)
        {
            var middle = low + (high - low) / 2;
            if (expression.GetNextOccurrence(middle, zone, inclusive: true) is { } found && found <= at)
            {
                low = found > low ? found : next;
            }
            else
            {
                high = middle; // no start in [middle, at]
            }
        }

        var end = low + length;
        return end > at ? end : null;
    }

    /// <summary>The next time after <paramref name="at"/> this freeze starts, or null when it never starts again.</summary>
    public DateTimeOffset? StartsAfter(DateTimeOffset at)
    {
        if (From is { } from && Until is not null)
        {
            return from > at ? from : null;
        }

        if (Cron is null || ParseDuration(Duration) is null)
        {
            return null;
        }

        var zone = string.IsNullOrWhiteSpace(TimeZone) ? TimeZoneInfo.Utc : TimeZoneInfo.FindSystemTimeZoneById(TimeZone);
        return CronExpression.Parse(Cron, CronFormat.Standard).GetNextOccurrence(at, zone, inclusive: false);
    }

    /// <summary>How long it lasts once started.</summary>
    public TimeSpan Length => From is { } from && Until is { } until ? until - from : ParseDuration(Duration) ?? TimeSpan.Zero;

    /// <summary>Why this window cannot be used, or null.</summary>
    public string? Problem()
    {
        if (From is not null || Until is not null)
        {
            return From is { } from && Until is { } until && from < until ? null : "a fixed freeze needs 'from' before 'until'";
        }

        if (Cron is null || ParseDuration(Duration) is not { } length)
        {
            return $"a freeze needs 'cron' and 'duration' (e.g. 30m, 64h, 2d, at most {MaxDuration.TotalDays} days), or 'from' and 'until'";
        }

        if (length > MaxDuration)
        {
            return $"a recurring freeze lasts at most {MaxDuration.TotalDays} days (duration '{Duration}'); use 'from' and 'until' for a longer one";
        }

        try
        {
            CronExpression.Parse(Cron, CronFormat.Standard);
            _ = string.IsNullOrWhiteSpace(TimeZone) ? TimeZoneInfo.Utc : TimeZoneInfo.FindSystemTimeZoneById(TimeZone);
            return null;
        }
        catch (CronFormatException exception)
        {
            return $"cron '{Cron}' cannot be read: {exception.Message}";
        }
        catch (TimeZoneNotFoundException)
        {
            return $"time zone '{TimeZone}' is not known (use an IANA name such as Europe/Berlin)";
        }
    }

    public static TimeSpan? ParseDuration(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var unit = text[^1];
        if (unit is 'm' or 'h' or 'd')
        {
            // Anything past a year is refused by Problem(); past TimeSpan's range it is not a duration at all (no overflow).
            return int.TryParse(text[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count > 0 &&
                   count <= (unit switch { 'm' => 1_000_000_000, 'h' => 100_000_000, _ => 10_000_000 })
                ? unit switch { 'm' => TimeSpan.FromMinutes(count), 'h' => TimeSpan.FromHours(count), _ => TimeSpan.FromDays(count) }
                : null;
        }

        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span) && span > TimeSpan.Zero ? span : null;
    }
}

/// <summary>An active freeze: why, and until when.</summary>
public sealed record ActiveFreeze(string Environment, string Reason, DateTimeOffset Until, bool FromRepository)
{
    public string Describe() =>
        $"{Environment} is frozen until {Until.UtcDateTime:yyyy-MM-dd HH:mm} UTC ({Reason}; {(FromRepository ? RepositoryConfig.Path : "the app's settings")})";
}
