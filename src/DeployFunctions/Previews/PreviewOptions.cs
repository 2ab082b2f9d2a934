using Microsoft.Extensions.Options;

namespace DeployFunctions.Previews;

/// <summary>Preview environments, one per pull request. Section <c>Previews</c>; off unless <see cref="Enabled"/>.</summary>
public sealed class PreviewOptions
{
    public const string SectionName = "Previews";

    /// <summary>
    /// Pull requests of repositories whose file has a <c>previews:</c> section get a preview environment. Off: the ingress does
    /// not queue their events at all. App setting <c>Previews__Enabled</c>.
    /// </summary>
    public bool Enabled { get; set; }

    /// <summary>The most previews one repository may have at once; a pull request past it is told so. App setting <c>Previews__MaxPerRepository</c>.</summary>
    public int MaxPerRepository { get; set; } = 10;

    /// <summary>A preview with no push for this many days is removed by the timer. App setting <c>Previews__IdleDays</c>.</summary>
    public double IdleDays { get; set; } = 7;

    /// <summary>How many times a teardown is tried before it is reported (once) and left. App setting <c>Previews__TeardownAttempts</c>.</summary>
    public int TeardownAttempts { get; set; } = 5;

    /// <summary>How long between teardown attempts, in seconds. App setting <c>Previews__TeardownRetrySeconds</c>.</summary>
    public double TeardownRetrySeconds { get; set; } = 60;
}

internal sealed class PreviewOptionsValidator : IValidateOptions<PreviewOptions>
{
    public ValidateOptionsResult Validate(string? name, PreviewOptions options)
    {
        var failures = new List<string>();
        if (options.MaxPerRepository is < 1 or > 1000)
        {
            failures.Add("Previews__MaxPerRepository must be 1-1000.");
        }

        if (options.IdleDays is <= 0 or > 365)
        {
            failures.Add("Previews__IdleDays must be above 0 and at most 365.");
        }

        if (options.TeardownAttempts is < 1 or > 100 || options.TeardownRetrySeconds <= 0)
        {
            failures.Add("Previews__TeardownAttempts must be 1-100 and Previews__TeardownRetrySeconds above 0.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
