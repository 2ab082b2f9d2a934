namespace DeployFunctions.Board;

/// <summary>One of the four keys: its value, the DORA performance band it falls in, and how it was computed.</summary>
public sealed record DoraFigure(double? Value, string Unit, string Band, string Method);

/// <summary>A day's bar in the deployment frequency chart.</summary>
public sealed record DoraDay(DateOnly Day, int Succeeded, int Failed);

/// <summary>A bar of the lead time distribution.</summary>
public sealed record DoraBucket(string Label, int Count);

/// <summary>DORA's four keys for one environment name of one repository (or all) over a window of whole UTC days.</summary>
public sealed record DoraReport
{
    public string? Repository { get; init; }
    public required string Environment { get; init; }
    public required DateOnly Since { get; init; }
    public required DateOnly Until { get; init; }
    public required int Days { get; init; }
    public required int Succeeded { get; init; }
    public required int Failed { get; init; }
    public required int Undone { get; init; }
    public required DoraFigure DeploymentFrequency { get; init; }
    public required DoraFigure LeadTimeMedian { get; init; }
    public required DoraFigure LeadTimeP90 { get; init; }
    public required DoraFigure ChangeFailureRate { get; init; }
    public required DoraFigure TimeToRestore { get; init; }
    public required IReadOnlyList<DoraDay> PerDay { get; init; }
    public required IReadOnlyList<DoraBucket> LeadTimeDistribution { get; init; }
}

/// <summary>
/// DORA's four keys from the board's day totals. The bands follow the State of DevOps report's (2021) elite / high /
/// medium / low, made contiguous where the report leaves gaps: each figure's <see cref="DoraFigure.Method"/> says so.
/// </summary>
public static class Dora
{
    private const double Hour = 3600, Day = 24 * Hour, Week = 7 * Day;

    public static DoraReport Compute(string? repository, string environment, DateOnly since, DateOnly until, IReadOnlyList<DayTotals> days)
    {
        ArgumentNullException.ThrowIfNull(days);
        var window = until.DayNumber - since.DayNumber + 1;
        var inWindow = days.Where(d => d.Day >= since && d.Day <= until).ToList();
        var succeeded = inWindow.Sum(d => d.Succeeded);
        var failed = inWindow.Sum(d => d.Failed);
        var undone = inWindow.Sum(d => d.Undone);
        var lead = inWindow.SelectMany(d => d.LeadSeconds).Order().ToList();
        var restore = inWindow.SelectMany(d => d.RestoreSeconds).Order().ToList();
        var perDay = succeeded / (double)window;
        double? failureRate = succeeded + failed == 0 ? null : (failed + undone) / (double)(succeeded + failed);
        var byDay = inWindow.ToDictionary(d => d.Day);

        return new DoraReport
        {
            Repository = repository,
            Environment = environment,
            Since = since,
            Until = until,
            Days = window,
            Succeeded = succeeded,
            Failed = failed,
            Undone = undone,
            DeploymentFrequency = new DoraFigure(perDay, "per day", FrequencyBand(succeeded == 0 ? null : perDay),
                $"Successful deployments to {environment} per day over {window} days ({succeeded} in all). Elite: at least one a day; " +
                "high: at least one a week; medium: at least one a month; low: fewer."),
            LeadTimeMedian = new DoraFigure(Percentile(lead, 50), "seconds", DurationBand(Percentile(lead, 50), [Hour, Week, 26 * Week]),
                $"Median time from the merge of a pull request to its deployment's success ({lead.Count} merges; deployments by " +
                "command happen before the merge and are not counted). Elite: under an hour; high: under a week; medium: under six months."),
            LeadTimeP90 = new DoraFigure(Percentile(lead, 90), "seconds", DurationBand(Percentile(lead, 90), [Hour, Week, 26 * Week]),
                "90th percentile (nearest rank) of the same merge-to-success times."),
            ChangeFailureRate = new DoraFigure(failureRate, "ratio", RateBand(failureRate),
                $"Deployments that failed or errored ({failed}), and successes rolled back (.deploy of the stable branch) or reverted " +
                $"(a merged \"Reverts owner/name#n\") within {TableDeployBoard.UndoWindow.TotalHours:0} hours ({undone}), over all " +
                $"deployments with a result ({succeeded + failed}). Elite: 15% or less; high: 30% or less; medium: 45% or less (an edge " +
                "of this app's: the report gives 16-30% for high, medium and low alike)."),
            TimeToRestore = new DoraFigure(Percentile(restore, 50), "seconds", DurationBand(Percentile(restore, 50), [Hour, Day, Week]),
                $"Median time from a failed deployment to the next successful one ({restore.Count} restores). Elite: under an hour; " +
                "high: under a day; medium: under a week."),
            PerDay = [.. Enumerable.Range(0, window).Select(i => since.AddDays(i))
                .Select(day => byDay.TryGetValue(day, out var d) ? new DoraDay(day, d.Succeeded, d.Failed) : new DoraDay(day, 0, 0))],
            LeadTimeDistribution =
            [
                new DoraBucket("< 1 hour", lead.Count(s => s < Hour)),
                new DoraBucket("1 hour - 1 day", lead.Count(s => s >= Hour && s < Day)),
                new DoraBucket("1 day - 1 week", lead.Count(s => s >= Day && s < Week)),
                new DoraBucket("1 week - 1 month", lead.Count(s => s >= Week && s < 30 * Day)),
                new DoraBucket("> 1 month", lead.Count(s => s >= 30 * Day)),
            ],
        };
    }

    /// <summary>The nearest-rank percentile of sorted values, or null when there are none.</summary>
    public static double? Percentile(IReadOnlyList<long> sorted, int percent)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        if (sorted.Count == 0)
        {
            return null;
        }

        var rank = (int)Math.Ceiling(percent / 100.0 * sorted.Count);
        return sorted[Math.Clamp(rank, 1, sorted.Count) - 1];
    }

    public static string FrequencyBand(double? perDay) => perDay switch
    {
        null => "no data",
        >= 1 => "elite",
        >= 1 / 7.0 => "high",
        >= 1 / 30.0 => "medium",
        _ => "low",
    };

    public static string RateBand(double? rate) => rate switch
    {
        null => "no data",
        <= 0.15 => "elite",
        <= 0.30 => "high",
        <= 0.45 => "medium",
        _ => "low",
    };

    /// <summary>Elite below the first limit, high below the second, medium below the third, else low.</summary>
    public static string DurationBand(double? seconds, double[] limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        return seconds switch
        {
            null => "no data",
            { } s when s < limits[0] => "elite",
            { } s when s < limits[1] => "high",
            { } s when s < limits[2] => "medium",
            _ => "low",
        };
    }
}
